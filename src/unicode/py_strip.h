// Python's str.strip() / lstrip() / rstrip() without arguments: whitespace as str.isspace()
// defines it (bidirectional class WS, B or S, or category Zs: Unicode's White_Space plus the
// information separators U+001C..U+001F). Used where tokalign reproduces Python code exactly
// (LLaVA's prompt building, transformers' added-token lstrip/rstrip). Input is UTF-8.
#pragma once

#include <string_view>

namespace tokalign::unicode {

// str.isspace() for one char.
bool is_py_space(char32_t c);

std::string_view py_lstrip(std::string_view s);
std::string_view py_rstrip(std::string_view s);
inline std::string_view py_strip(std::string_view s) { return py_rstrip(py_lstrip(s)); }

}  // namespace tokalign::unicode
