#include "tokenizer/decoders/flat.h"

#include <algorithm>
#include <cstring>
#include <emmintrin.h>

#include "tokenizer/byte_level_alphabet.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

namespace {
// Whether a[0, n) == b[0, n) for n <= 16, in one 16-byte compare: 16 bytes must be readable
// from each.
bool same_in_16(const char* a, const char* b, size_t n) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
  const unsigned differ = ~static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, y))) & 0xFFFFu;
  return (differ & ((1u << n) - 1)) == 0;
}
}  // namespace

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
  plan->entries_.assign(source.ids, Entry{});
  std::string raw;
  for (size_t id = 0; id < source.ids; ++id) {
    Entry& e = plan->entries_[id];
    e.offset = static_cast<uint32_t>(plan->text_.size());
    std::optional<std::string_view> t = source.text(static_cast<uint32_t>(id));
    if (t) {
      e.flags = kKnown | (source.special(*t) ? kSpecial : 0);
      if (plan->kind_ == Kind::byte_level) {
        if (alpha.decode(*t, raw)) plan->text_ += raw;
        else plan->text_ += *t;
      } else {
        std::string piece(*t);
        for (const ReplaceDecoder* r : replaces) piece = r->apply(std::move(piece));
        if (plan->byte_fallback_) e.byte = static_cast<int16_t>(byte_fallback_value(piece));
        plan->text_ += piece;
      }
    }
    e.size = static_cast<uint32_t>(plan->text_.size() - e.offset);
    if (t && e.byte < 0 && e.size <= kPad) e.flags |= kPlain;
  }
  plan->text_.append(kPad, '\0');
  return plan;
}

template <class Put>
bool FlatDecoder::walk(std::span<const uint32_t> ids, bool skip_special_tokens, Put&& put) const {
  thread_local std::string bytes;
  bytes.clear();
  bool have_bytes = false;  // bytes is not empty (a local: the loop need not look at the thread's string)
  auto flush = [&] {  // ByteFallback: a run of byte tokens is its text if valid UTF-8, else one U+FFFD a byte
    have_bytes = false;
    bool ok = true;
    if (unicode::find_invalid_utf8(bytes) == std::string_view::npos) ok = put(bytes.data(), bytes.size(), false);
    else
      for (size_t k = 0; ok && k < bytes.size(); ++k) ok = put("\xEF\xBF\xBD", 3, false);
    bytes.clear();
    return ok;
  };
  // An entry is decoded when its flags, under `look`, are just kKnown.
  const uint8_t look = skip_special_tokens ? (kKnown | kSpecial) : kKnown;
  const Entry* entries = entries_.data();
  const size_t n_entries = entries_.size();
  for (uint32_t id : ids) {
    if (id >= n_entries) continue;
    const Entry& e = entries[id];
    if ((e.flags & look) != kKnown) continue;
    if (e.byte >= 0) {
      bytes.push_back(static_cast<char>(e.byte));
      have_bytes = true;
      continue;
    }
    if (have_bytes && !flush()) return false;
    if (!put(text_.data() + e.offset, e.size, true)) return false;
  }
  return !have_bytes || flush();
}

void FlatDecoder::decode(std::span<const uint32_t> ids, bool skip_special_tokens, std::string& out) const {
  // Written through a pointer into the thread's buffer, which only grows (no zero-filling
  // per call), then copied out once: a piece of up to 16 bytes is one fixed-size copy
  // (text_ is padded), not a call to append.
  thread_local std::vector<char> buf(256);
  char* d = buf.data();
  size_t n = 0;
  auto room = [&](size_t more) {
    if (n + more + kPad <= buf.size()) return;
    buf.resize(2 * (n + more + kPad));
    d = buf.data();
  };
  // Appends `size` bytes of s; from a padded source (text_) a short piece is one fixed
  // 16-byte copy.
  auto put = [&](const char* s, size_t size, bool padded) {
    room(size);
    if (padded && size <= kPad) std::memcpy(d + n, s, kPad);
    else std::memcpy(d + n, s, size);
    n += size;
  };
  walk(ids, skip_special_tokens, [&](const char* s, size_t size, bool padded) {
    put(s, size, padded);
    return true;
  });
  out.assign(d, n);
  if (kind_ == Kind::byte_level) {
    if (unicode::find_invalid_utf8(out) != std::string_view::npos) out = utf8_lossy(out);
  } else if (strip_) {
    const auto [a, b] = strip_->kept(out);  // trimmed in place: no new string per decode
    out.resize(b);
    out.erase(0, a);
  }
}

bool FlatDecoder::decodes_to(std::span<const uint32_t> ids, bool skip_special_tokens, std::string_view want) const {
  // decode() with its output replaced by a cursor in `want`: the same pieces, byte-fallback
  // runs and leading Strip, each byte compared where decode would have appended it.
  size_t strip = 0;  // leading `strip_char`s of the decoded text still to drop
  char strip_char = 0;
  if (kind_ == Kind::pieces && strip_) {
    if (strip_->stop() != 0 || strip_->content() >= 0x80) return false;
    strip = strip_->start();
    strip_char = static_cast<char>(strip_->content());
  }
  size_t at = 0;  // bytes of want matched
  auto match = [&](const char* s, size_t n, bool padded) {
    for (; strip > 0 && n > 0; --strip, ++s, --n)
      if (*s != strip_char) {
        strip = 0;
        break;
      }
    if (n > want.size() - at) return false;
    if (padded && n <= kPad && at + kPad <= want.size()) {
      // One 16-byte compare: text_ is padded, and want has 16 bytes from `at`.
      if (!same_in_16(s, want.data() + at, n)) return false;
    } else if (std::memcmp(s, want.data() + at, n) != 0) {
      return false;
    }
    at += n;
    return true;
  };
  // Plain pieces (nearly every token) in a tight loop: each one 16-byte compare while want
  // has 16 bytes left and nothing is left to strip, else through match. The walk takes over
  // at the first byte-fallback token (a run of them decodes as a whole), before which no run
  // is pending, so it starts where walk would be at that token.
  const uint8_t look = skip_special_tokens ? (kKnown | kSpecial | kPlain) : (kKnown | kPlain);
  const Entry* entries = entries_.data();
  const size_t n_entries = entries_.size();
  const char* text = text_.data();
  size_t i = 0;
  for (; i < ids.size(); ++i) {
    const uint32_t id = ids[i];
    if (id >= n_entries) continue;
    const Entry& e = entries[id];
    const uint8_t f = e.flags & look;
    if (f != (kKnown | kPlain)) {
      if ((f & kKnown) && !(f & (kSpecial | kPlain))) break;  // decoded, not plain: a byte token or a long piece
      continue;                                               // skipped, as walk skips it
    }
    if (strip == 0 && at + kPad <= want.size()) {
      if (!same_in_16(text + e.offset, want.data() + at, e.size)) return false;
      at += e.size;
    } else if (!match(text + e.offset, e.size, true)) {
      return false;
    }
  }
  if (i < ids.size() && !walk(ids.subspan(i), skip_special_tokens, match)) return false;
  // Equal to want, which is valid UTF-8: a byte-level text then needs no repair either.
  return at == want.size();
}

}  // namespace tokalign::tok
