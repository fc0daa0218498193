// Split pre-tokenizer (HF tokenizers/src/pre_tokenizers/split.rs).
#include "tokenizer/pre_tokenizers/pre_tokenizer.h"

namespace tokalign::tok {

void SplitPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  s.split([&](NormalizedString& n, std::vector<NormalizedString>& out) {
    n.split(*pattern_, behavior_, out);
  });
}

}  // namespace tokalign::tok
