// ByteLevel normalizer (HF tokenizers/src/normalizers/byte_level.rs).
#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/normalizers/normalizer.h"

namespace tokalign::tok {

void ByteLevelNormalizer::normalize(NormalizedString& s) const {
  if (!s.empty()) s.transform(ByteLevelAlphabet::get().transformations(s.get()), 0);
}

}  // namespace tokalign::tok
