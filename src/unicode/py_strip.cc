#include "unicode/py_strip.h"

#include "unicode/categories.h"
#include "unicode/utf8.h"

namespace tokalign::unicode {

bool is_py_space(char32_t c) { return is_whitespace(c) || (c >= 0x1C && c <= 0x1F); }

std::string_view py_lstrip(std::string_view s) {
  size_t a = 0;
  while (a < s.size()) {
    size_t i = a;
    if (!is_py_space(decode(s, i))) break;
    a = i;
  }
  return s.substr(a);
}

std::string_view py_rstrip(std::string_view s) {
  size_t b = s.size();
  while (b > 0) {
    size_t j = b - 1;
    while (j > 0 && is_continuation(static_cast<unsigned char>(s[j]))) --j;
    size_t k = j;
    if (!is_py_space(decode(s, k))) break;
    b = j;
  }
  return s.substr(0, b);
}

}  // namespace tokalign::unicode
