// Metaspace pre-tokenizer (HF tokenizers/src/pre_tokenizers/metaspace.rs): spaces become
// the replacement char, a prefix one is added per prepend_scheme, and the text splits
// before each replacement char.
#include "tokenizer/pre_tokenizers/pre_tokenizer.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

MetaspacePreTokenizer::MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
    : replacement_(replacement), scheme_(scheme), split_(split) {
  unicode::append_utf8(rep_, replacement_);
}

void MetaspacePreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  const CharPredicatePattern rep_pattern([r = replacement_](char32_t c) { return c == r; });
  s.split([&](NormalizedString& n, std::vector<NormalizedString>& out) {
    n.replace(space_, rep_);
    const bool starts = n.get().substr(0, rep_.size()) == rep_;
    if (scheme_ == PrependScheme::Always && !starts) n.prepend(rep_);
    if (scheme_ == PrependScheme::First && !starts && n.offsets_original().first == 0) n.prepend(rep_);
    if (split_) n.split(rep_pattern, SplitBehavior::MergedWithNext, out);
    else out.push_back(std::move(n));
  });
}

}  // namespace tokalign::tok
