// TemplateProcessing (HF processors/template.rs), Bert (bert.rs), Roberta (roberta.rs),
// ByteLevel (pre_tokenizers/byte_level.rs, process_offsets), Sequence (sequence.rs).
#include "tokenizer/processors/processor.h"
#include "unicode/categories.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

namespace {

// Puts `before` and `after` around the encoding, in place. `values` (when not null) means
// offsets are kept; it grows with the encoding when it held one value per token.
void wrap(Encoding& e, const std::vector<uint32_t>& before, const std::vector<uint32_t>& after, TokenValues* values) {
  const bool with_offsets = values != nullptr;
  if (values && values->size() == e.ids.size()) {
    values->insert(values->begin(), before.size(), std::string_view());
    values->insert(values->end(), after.size(), std::string_view());
  }
  e.ids.insert(e.ids.begin(), before.begin(), before.end());
  e.ids.insert(e.ids.end(), after.begin(), after.end());
  e.special_mask.insert(e.special_mask.begin(), before.size(), 1);
  e.special_mask.insert(e.special_mask.end(), after.size(), 1);
  if (with_offsets) {
    e.offsets.insert(e.offsets.begin(), before.size(), {0, 0});
    e.offsets.insert(e.offsets.end(), after.size(), {0, 0});
  }
}

// HF byte_level::process_offsets: drop leading/trailing spaces (the GPT-2 'Ġ' or any
// whitespace char) of each token from its offsets.
void trim_offsets(Encoding& e, bool add_prefix_space, const TokenValues& values) {
  for (size_t i = 0; i < e.ids.size(); ++i) {
    std::string_view t = values[i];
    std::vector<char32_t> chars;
    for (size_t k = 0; k < t.size();) chars.push_back(unicode::decode(t, k));
    auto space = [](char32_t c) { return c == 0x120 || unicode::is_whitespace(c); };
    size_t lead = 0, trail = 0;
    while (lead < chars.size() && space(chars[lead])) ++lead;
    while (trail < chars.size() && space(chars[chars.size() - 1 - trail])) ++trail;
    auto& o = e.offsets[i];
    if (lead > 0) {
      const bool first = i == 0 || o.first == 0;
      if (first && add_prefix_space && lead == 1) lead = 0;
      o.first = std::min<uint32_t>(o.first + static_cast<uint32_t>(lead), o.second);
    }
    if (trail > 0 && o.second >= trail) o.second = std::max<uint32_t>(o.second - static_cast<uint32_t>(trail), o.first);
  }
}

}  // namespace

TemplateProcessor::TemplateProcessor(std::vector<Piece> single) {
  bool seen_sequence = false;
  for (const Piece& p : single) {
    if (p.is_sequence) {
      seen_sequence = true;
      continue;
    }
    auto& dst = seen_sequence ? after_ : before_;
    dst.insert(dst.end(), p.ids.begin(), p.ids.end());
  }
}

void TemplateProcessor::process(Encoding& e, bool add_special_tokens, TokenValues* values) const {
  if (add_special_tokens) wrap(e, before_, after_, values);
}

void ByteLevelProcessor::process(Encoding& e, bool, TokenValues* values) const {
  if (trim_ && values) trim_offsets(e, prefix_space_, *values);
}

void WrapProcessor::process(Encoding& e, bool add_special_tokens, TokenValues* values) const {
  if (trim_ && values) trim_offsets(e, prefix_space_, *values);
  if (add_special_tokens) wrap(e, {cls_}, {sep_}, values);
}

}  // namespace tokalign::tok
