// Fixed-pattern pre-tokenizers: Whitespace and WhitespaceSplit (whitespace.rs), Punctuation
// (punctuation.rs), Digits (digits.rs), CharDelimiterSplit (delimiter.rs) and
// BertPreTokenizer (bert.rs), all in HF tokenizers/src/pre_tokenizers/.
#include "tokenizer/pre_tokenizers/pre_tokenizer.h"
#include "unicode/categories.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

namespace {

// The regex `\w+|[^\w\s]+` (regex crate), as runs of one char class.
class WordOrPunctRunsPattern : public Pattern {
 public:
  void find_matches(std::string_view s, std::vector<Piece>& out) const override {
    out.clear();
    if (s.empty()) {
      out.push_back({0, 0, false});
      return;
    }
    // 0 = space, 1 = word, 2 = other
    auto cls = [](char32_t c) { return unicode::is_word_char(c) ? 1 : unicode::is_whitespace(c) ? 0 : 2; };
    size_t prev = 0;
    size_t i = 0;
    while (i < s.size()) {
      size_t at = i;
      int k = cls(unicode::decode(s, i));
      if (k == 0) continue;
      size_t end = i;
      while (end < s.size()) {
        size_t j = end;
        if (cls(unicode::decode(s, j)) != k) break;
        end = j;
      }
      if (prev != at) out.push_back({static_cast<uint32_t>(prev), static_cast<uint32_t>(at), false});
      out.push_back({static_cast<uint32_t>(at), static_cast<uint32_t>(end), true});
      prev = end;
      i = end;
    }
    if (prev != s.size()) out.push_back({static_cast<uint32_t>(prev), static_cast<uint32_t>(s.size()), false});
  }
};

bool is_bert_punc(char32_t c) { return unicode::is_ascii_punctuation(c) || unicode::is_punctuation(c); }

std::unique_ptr<Pattern> pred(bool (*f)(char32_t)) { return std::make_unique<CharPredicatePattern>(f); }

}  // namespace

void PatternSplitPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  for (const Step& step : steps_)
    s.split([&](NormalizedString& n, std::vector<NormalizedString>& out) {
      n.split(*step.pattern, step.behavior, out);
    });
}

PreTokenizerPtr PatternSplitPreTokenizer::whitespace() {
  std::vector<Step> steps;
  steps.push_back({std::make_unique<InvertPattern>(std::make_unique<WordOrPunctRunsPattern>()), SplitBehavior::Removed});
  return std::make_unique<PatternSplitPreTokenizer>(std::move(steps));
}

PreTokenizerPtr PatternSplitPreTokenizer::whitespace_split() {
  std::vector<Step> steps;
  steps.push_back({pred(&unicode::is_whitespace), SplitBehavior::Removed});
  return std::make_unique<PatternSplitPreTokenizer>(std::move(steps));
}

PreTokenizerPtr PatternSplitPreTokenizer::punctuation(SplitBehavior b) {
  std::vector<Step> steps;
  steps.push_back({pred(&is_bert_punc), b});
  return std::make_unique<PatternSplitPreTokenizer>(std::move(steps));
}

PreTokenizerPtr PatternSplitPreTokenizer::digits(bool individual) {
  std::vector<Step> steps;
  steps.push_back({pred(&unicode::is_numeric), individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous});
  return std::make_unique<PatternSplitPreTokenizer>(std::move(steps));
}

PreTokenizerPtr PatternSplitPreTokenizer::char_delimiter(char32_t d) {
  std::vector<Step> steps;
  steps.push_back({std::make_unique<CharPredicatePattern>([d](char32_t c) { return c == d; }), SplitBehavior::Removed});
  return std::make_unique<PatternSplitPreTokenizer>(std::move(steps));
}

PreTokenizerPtr PatternSplitPreTokenizer::bert() {
  std::vector<Step> steps;
  steps.push_back({pred(&unicode::is_whitespace), SplitBehavior::Removed});
  steps.push_back({pred(&is_bert_punc), SplitBehavior::Isolated});
  return std::make_unique<PatternSplitPreTokenizer>(std::move(steps));
}

}  // namespace tokalign::tok
