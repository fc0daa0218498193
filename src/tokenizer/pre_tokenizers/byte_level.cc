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
  const auto& alpha = ByteLevelAlphabet::get();
  s.normalize([&](NormalizedString& n) {
    std::string_view text = n.get();
    std::vector<std::pair<char32_t, int>> t;
    t.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
      size_t len = unicode::char_len(static_cast<unsigned char>(text[i]));
      for (size_t k = 0; k < len; ++k)
        t.emplace_back(alpha.byte_to_char[static_cast<unsigned char>(text[i + k])], k > 0 ? 1 : 0);
      i += len;
    }
    n.transform(t, 0);
  });
}

}  // namespace tokalign::tok
