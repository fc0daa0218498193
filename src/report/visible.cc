#include "report/visible.h"

#include <cstdio>

namespace tokalign::report {

std::string visible(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == ' ') out += "\xE2\x90\xA3";
    else if (c == '\n') out += "\xE2\x8F\x8E";
    else if (c == '\t') out += "\xE2\x86\x92";
    else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

size_t display_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace tokalign::report
