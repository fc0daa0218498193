#include "unicode/utf8.h"

#include <simdjson.h>

namespace tokalign::unicode {

size_t find_invalid_utf8(std::string_view s) {
  // simdjson's validator (SIMD, picked for the CPU at run time) says whether there is a
  // fault; the scalar scan below finds where, only then.
  if (s.size() >= 64 && simdjson::validate_utf8(s.data(), s.size())) return std::string_view::npos;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      __builtin_memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    char32_t min;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
      min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k)
      if (!is_continuation(p[i + k])) return i;
    size_t j = i;
    char32_t c = decode(s, j);
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace tokalign::unicode
