// UTF-8 decoding and encoding. Inputs to the tokenizer are validated once at the API
// boundary (validate_utf8), so the decoders here assume well-formed UTF-8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tokalign::unicode {

// Length in bytes of the UTF-8 sequence that starts with lead byte b.
inline size_t char_len(unsigned char b) {
  if (b < 0x80) return 1;
  if (b < 0xE0) return 2;
  if (b < 0xF0) return 3;
  return 4;
}

inline bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Decodes the code point at s[i] (well-formed input) and advances i past it.
inline char32_t decode(std::string_view s, size_t& i) {
  unsigned char b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    ++i;
    return b;
  }
  if (b < 0xE0) {
    char32_t c = ((b & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
    i += 2;
    return c;
  }
  if (b < 0xF0) {
    char32_t c = ((b & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) |
                 (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
    i += 3;
    return c;
  }
  char32_t c = ((b & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
               ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) |
               (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
  i += 4;
  return c;
}

inline void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// Number of code points in well-formed UTF-8.
inline size_t count_chars(std::string_view s) {
  size_t n = 0;
  for (unsigned char b : s) n += !is_continuation(b);
  return n;
}

// Positions in well-formed UTF-8: the start of the char holding byte i (i itself at or past
// the end), and the end of the char holding byte i - 1 (the next char boundary at or after i).
inline size_t char_floor(std::string_view s, size_t i) {
  while (i > 0 && i < s.size() && is_continuation(static_cast<unsigned char>(s[i]))) --i;
  return i;
}
inline size_t char_ceil(std::string_view s, size_t i) {
  while (i < s.size() && is_continuation(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}
// The char that ends at byte i (0 < i <= s.size(), i a char boundary).
inline char32_t char_before(std::string_view s, size_t i) {
  size_t k = char_floor(s, i - 1);
  return decode(s, k);
}
// The byte offset of each char, then s.size(): char index -> byte.
inline std::vector<uint32_t> char_starts(std::string_view s) {
  std::vector<uint32_t> at;
  for (size_t i = 0; i < s.size(); ++i)
    if (!is_continuation(static_cast<unsigned char>(s[i]))) at.push_back(static_cast<uint32_t>(i));
  at.push_back(static_cast<uint32_t>(s.size()));
  return at;
}

// Returns the byte offset of the first invalid sequence, or npos when s is valid UTF-8
// (no overlongs, no surrogates, nothing above U+10FFFF).
size_t find_invalid_utf8(std::string_view s);

}  // namespace tokalign::unicode
