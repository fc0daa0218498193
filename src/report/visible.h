// Token text for people: whitespace and control characters made visible, and a display
// width for lining up columns.
#pragma once

#include <string>
#include <string_view>

namespace tokalign::report {

// ␣ for space, ⏎ for newline, → for tab, \xNN for other controls.
std::string visible(std::string_view s);

// Display width in chars (every char counts one: close enough for a column).
size_t display_width(std::string_view s);

}  // namespace tokalign::report
