#include "tokenizer/byte_level_alphabet.h"

#include "unicode/utf8.h"

namespace tokalign::tok {

ByteLevelAlphabet::ByteLevelAlphabet() {
  char_to_byte.fill(-1);
  auto self = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    char32_t c = self(b) ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
    byte_to_char[b] = c;
    unicode::append_utf8(byte_to_utf8[b], c);
    char_to_byte[c] = static_cast<int16_t>(b);
  }
}

const ByteLevelAlphabet& ByteLevelAlphabet::get() {
  static const ByteLevelAlphabet a;
  return a;
}

bool ByteLevelAlphabet::decode(std::string_view token, std::string& out) const {
  out.clear();
  return decode_append(token, out);
}

std::vector<std::pair<char32_t, int>> ByteLevelAlphabet::transformations(std::string_view text) const {
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = unicode::char_len(static_cast<unsigned char>(text[i]));
    for (size_t k = 0; k < n; ++k) t.emplace_back(byte_to_char[static_cast<unsigned char>(text[i + k])], k > 0 ? 1 : 0);
    i += n;
  }
  return t;
}

bool ByteLevelAlphabet::decode_append(std::string_view token, std::string& out) const {
  const size_t old = out.size();
  out.resize(old + token.size());
  size_t n = decode_to(token, out.data() + old);
  out.resize(n == SIZE_MAX ? old : old + n);
  return n != SIZE_MAX;
}

size_t ByteLevelAlphabet::decode_to(std::string_view token, char* out) const {
  // Alphabet chars are U+0021..U+0143: one or two UTF-8 bytes each; raw is never longer.
  char* w = out;
  const auto* p = reinterpret_cast<const unsigned char*>(token.data());
  const size_t n = token.size();
  for (size_t i = 0; i < n;) {
    unsigned char b = p[i];
    int16_t v;
    if (b < 0x80) {
      v = char_to_byte[b];
      i += 1;
    } else if ((b & 0xE0) == 0xC0 && i + 1 < n) {
      char32_t c = (static_cast<char32_t>(b & 0x1F) << 6) | (p[i + 1] & 0x3F);
      v = c < char_to_byte.size() ? char_to_byte[c] : int16_t{-1};
      i += 2;
    } else {
      return SIZE_MAX;
    }
    if (v < 0) return SIZE_MAX;
    *w++ = static_cast<char>(v);
  }
  return static_cast<size_t>(w - out);
}

}  // namespace tokalign::tok
