// ByteLevel pre-tokenizer (HF tokenizers/src/pre_tokenizers/byte_level.rs).
#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/fast_patterns.h"
#include "tokenizer/pre_tokenizers/pre_tokenizer.h"

namespace tokalign::tok {

namespace {
// HF's GPT-2 pattern, including its trailing `|\s+`.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
}  // namespace

ByteLevelPreTokenizer::ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
    : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {
  if (use_regex_) {
    regex_ = fast_pattern_for(kGpt2Pattern);
    if (!regex_) regex_ = std::make_unique<RegexPattern>(kGpt2Pattern);
  }
}

void ByteLevelPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  if (add_prefix_space_ || use_regex_) {
    s.split([&](NormalizedString& n, std::vector<NormalizedString>& out) {
      if (add_prefix_space_ && !(n.get().size() > 0 && n.get()[0] == ' ')) n.prepend(" ");
      if (use_regex_) n.split(*regex_, SplitBehavior::Isolated, out);
      else out.push_back(std::move(n));
    });
  }
  if (!map_bytes_) return;
  s.normalize([](NormalizedString& n) { n.transform(ByteLevelAlphabet::get().transformations(n.get()), 0); });
}

}  // namespace tokalign::tok
