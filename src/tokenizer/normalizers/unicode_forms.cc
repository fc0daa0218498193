// NFC / NFD / NFKC / NFKD (HF tokenizers/src/normalizers/unicode.rs).
#include "tokenizer/normalizers/normalizer.h"

namespace tokalign::tok {

void UnicodeNormalizer::normalize(NormalizedString& s) const {
  std::string_view text = s.get();
  if (unicode::quick_check_unchanged(text, form_)) return;
  auto t = unicode::normalize_transform(text, form_);
  // Unchanged text keeps its cheap identity alignment.
  bool same = true;
  {
    size_t i = 0;
    for (const auto& [c, change] : t) {
      if (change != 0 || i >= text.size() || unicode::decode(text, i) != c) {
        same = false;
        break;
      }
    }
    same = same && i == text.size();
  }
  if (!same) s.transform(t, 0);
}

}  // namespace tokalign::tok
