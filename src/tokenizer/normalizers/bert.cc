// BertNormalizer (HF tokenizers/src/normalizers/bert.rs).
#include "tokenizer/normalizers/normalizer.h"
#include "unicode/categories.h"

namespace tokalign::tok {

using unicode::Category;

bool bert_is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

namespace {

bool bert_whitespace(char32_t c) { return c == '\t' || c == '\n' || c == '\r' || unicode::is_whitespace(c); }

bool bert_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  Category k = unicode::category(c);
  // unicode_categories::is_other: Cc, Cf, Co, Cs (unassigned Cn is kept).
  return k == Category::Cc || k == Category::Cf || k == Category::Co || k == Category::Cs;
}

}  // namespace

void BertNormalizer::normalize(NormalizedString& s) const {
  if (clean_text_) {
    s.filter([](char32_t c) { return !(c == 0 || c == 0xFFFD || bert_control(c)); });
    s.map([](char32_t c) { return bert_whitespace(c) ? U' ' : c; });
  }
  if (chinese_) {
    std::vector<std::pair<char32_t, int>> t;
    std::string_view text = s.get();
    bool any = false;
    for (size_t i = 0; i < text.size();) {
      char32_t c = unicode::decode(text, i);
      if (bert_is_chinese_char(c)) {
        t.emplace_back(U' ', 0);
        t.emplace_back(c, 1);
        t.emplace_back(U' ', 1);
        any = true;
      } else {
        t.emplace_back(c, 0);
      }
    }
    if (any) s.transform(t, 0);
  }
  if (strip_accents_) {
    UnicodeNormalizer(unicode::Form::NFD).normalize(s);
    s.filter([](char32_t c) { return unicode::category(c) != Category::Mn; });
  }
  if (lowercase_) s.lowercase();
}

}  // namespace tokalign::tok
