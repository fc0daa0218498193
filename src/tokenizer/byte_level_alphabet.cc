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

bool ByteLevelAlphabet::decode_append(std::string_view token, std::string& out) const {
  for (size_t i = 0; i < token.size();) {
    char32_t c = unicode::decode(token, i);
    if (c >= char_to_byte.size() || char_to_byte[c] < 0) return false;
    out.push_back(static_cast<char>(char_to_byte[c]));
  }
  return true;
}

}  // namespace tokalign::tok
