// GPT-2's byte-to-unicode table (HF tokenizers/src/pre_tokenizers/byte_level.rs, bytes_char):
// printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in byte order.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokalign::tok {

struct ByteLevelAlphabet {
  std::array<char32_t, 256> byte_to_char{};
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, 0x144> char_to_byte{};  // -1 where the char is not in the alphabet

  ByteLevelAlphabet();
  static const ByteLevelAlphabet& get();

  // Maps a byte-level token string back to raw bytes; false if it holds a char outside
  // the alphabet.
  bool decode(std::string_view token, std::string& out) const;
  // Same, appending to out (unchanged on failure).
  bool decode_append(std::string_view token, std::string& out) const;
  // Writes the raw bytes to out (room for token.size() bytes); returns their count, or
  // SIZE_MAX if the token holds a char outside the alphabet.
  size_t decode_to(std::string_view token, char* out) const;
  // Every byte of text as its alphabet char, in HF's (char, change) form: the first byte of
  // each char replaces it, the others are inserted.
  std::vector<std::pair<char32_t, int>> transformations(std::string_view text) const;
};

}  // namespace tokalign::tok
