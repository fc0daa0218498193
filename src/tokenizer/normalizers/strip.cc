// Strip and StripAccents (HF tokenizers/src/normalizers/strip.rs).
#include "tokenizer/normalizers/normalizer.h"
#include "unicode/categories.h"

namespace tokalign::tok {

void StripNormalizer::normalize(NormalizedString& s) const {
  if (left_ && right_) {
    s.strip(true, true);
  } else {
    if (left_) s.strip(true, false);
    if (right_) s.strip(false, true);
  }
}

void StripAccentsNormalizer::normalize(NormalizedString& s) const {
  s.filter([](char32_t c) { return !unicode::is_mark(unicode::category(c)); });
}

}  // namespace tokalign::tok
