#include "tokenizer/decoders/flat.h"

#include "tokenizer/byte_level_alphabet.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

std::unique_ptr<FlatDecoder> FlatDecoder::compile(const Decoder* chain, const Source& source) {
  if (!chain) return nullptr;
  std::vector<const Decoder*> steps;
  if (auto* seq = dynamic_cast<const SequenceDecoder*>(chain)) {
    for (const DecoderPtr& d : seq->items()) {
      if (dynamic_cast<const SequenceDecoder*>(d.get())) return nullptr;
      steps.push_back(d.get());
    }
  } else {
    steps.push_back(chain);
  }
  auto plan = std::unique_ptr<FlatDecoder>(new FlatDecoder);
  // The accepted shapes: ByteLevel alone, or Replace* ByteFallback? Fuse? Strip? (a Strip
  // strips each token, so it is one strip of the whole only after a Fuse).
  std::vector<const ReplaceDecoder*> replaces;
  if (steps.size() == 1 && dynamic_cast<const ByteLevelDecoder*>(steps[0])) {
    plan->kind_ = Kind::byte_level;
  } else {
    size_t i = 0;
    while (i < steps.size() && dynamic_cast<const ReplaceDecoder*>(steps[i]))
      replaces.push_back(static_cast<const ReplaceDecoder*>(steps[i++]));
    if (i < steps.size() && dynamic_cast<const ByteFallbackDecoder*>(steps[i])) {
      plan->byte_fallback_ = true;
      ++i;
    }
    bool fused = false;
    if (i < steps.size() && dynamic_cast<const FuseDecoder*>(steps[i])) {
      fused = true;
      ++i;
    }
    if (fused && i < steps.size() && dynamic_cast<const StripDecoder*>(steps[i]))
      plan->strip_ = static_cast<const StripDecoder*>(steps[i++]);
    if (i != steps.size()) return nullptr;
  }
  const auto& alpha = ByteLevelAlphabet::get();
  plan->offset_.reserve(source.ids + 1);
  plan->byte_.assign(source.ids, -1);
  plan->flags_.assign(source.ids, 0);
  std::string raw;
  for (size_t id = 0; id < source.ids; ++id) {
    plan->offset_.push_back(static_cast<uint32_t>(plan->text_.size()));
    std::optional<std::string_view> t = source.text(static_cast<uint32_t>(id));
    if (!t) continue;
    plan->flags_[id] = kKnown | (source.special(*t) ? kSpecial : 0);
    if (plan->kind_ == Kind::byte_level) {
      if (alpha.decode(*t, raw)) plan->text_ += raw;
      else plan->text_ += *t;
      continue;
    }
    std::string piece(*t);
    for (const ReplaceDecoder* r : replaces) piece = r->apply(std::move(piece));
    if (plan->byte_fallback_) plan->byte_[id] = static_cast<int16_t>(byte_fallback_value(piece));
    plan->text_ += piece;
  }
  plan->offset_.push_back(static_cast<uint32_t>(plan->text_.size()));
  return plan;
}

void FlatDecoder::decode(std::span<const uint32_t> ids, bool skip_special_tokens, std::string& out) const {
  out.clear();
  thread_local std::string bytes;
  bytes.clear();
  auto flush = [&] {  // ByteFallback: a run of byte tokens is its text if valid UTF-8, else one U+FFFD a byte
    if (bytes.empty()) return;
    if (unicode::find_invalid_utf8(bytes) == std::string_view::npos) out += bytes;
    else
      for (size_t k = 0; k < bytes.size(); ++k) out += "\xEF\xBF\xBD";
    bytes.clear();
  };
  for (uint32_t id : ids) {
    if (id >= flags_.size() || !(flags_[id] & kKnown)) continue;
    if (skip_special_tokens && (flags_[id] & kSpecial)) continue;
    if (byte_fallback_ && byte_[id] >= 0) {
      bytes.push_back(static_cast<char>(byte_[id]));
      continue;
    }
    flush();
    out.append(text_, offset_[id], offset_[id + 1] - offset_[id]);
  }
  flush();
  if (kind_ == Kind::byte_level) {
    if (unicode::find_invalid_utf8(out) != std::string_view::npos) out = utf8_lossy(out);
  } else if (strip_) {
    const auto [a, b] = strip_->kept(out);  // trimmed in place: no new string per decode
    out.resize(b);
    out.erase(0, a);
  }
}

}  // namespace tokalign::tok
