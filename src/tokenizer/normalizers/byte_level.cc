// ByteLevel normalizer (HF tokenizers/src/normalizers/byte_level.rs).
#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/normalizers/normalizer.h"

namespace tokalign::tok {

void ByteLevelNormalizer::normalize(NormalizedString& s) const {
  if (s.empty()) return;
  const auto& alpha = ByteLevelAlphabet::get();
  std::string_view text = s.get();
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = unicode::char_len(static_cast<unsigned char>(text[i]));
    for (size_t k = 0; k < n; ++k)
      t.emplace_back(alpha.byte_to_char[static_cast<unsigned char>(text[i + k])], k > 0 ? 1 : 0);
    i += n;
  }
  s.transform(t, 0);
}

}  // namespace tokalign::tok
