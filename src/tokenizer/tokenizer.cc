#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <optional>

#include "unicode/utf8.h"
#include "util/error.h"
#include "util/worker_pool.h"

namespace tokalign::tok {

struct Tokenizer::FlatState {
  std::once_flag once;
  std::unique_ptr<FlatDecoder> plan;
};

Tokenizer::Tokenizer() : flat_(std::make_unique<FlatState>()) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

namespace {

// HF BytesToCharOffsetConverter (tokenizers/src/tokenizer/pre_tokenizer.rs).
class CharOffsets {
 public:
  explicit CharOffsets(std::string_view s) : map_(s.size()) {
    uint32_t c = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (i > 0 && !unicode::is_continuation(static_cast<unsigned char>(s[i]))) ++c;
      map_[i] = c;
    }
  }
  std::pair<uint32_t, uint32_t> convert(size_t a, size_t b) const {
    if (a < map_.size()) {
      if (b < map_.size()) return {map_[a], map_[b]};
      uint32_t last = (b >= 1 && b - 1 < map_.size()) ? map_[b - 1] : map_[a] + 1;
      return {map_[a], last + 1};
    }
    return {static_cast<uint32_t>(a), static_cast<uint32_t>(b)};
  }

 private:
  std::vector<uint32_t> map_;
};


}  // namespace

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& opts) const {
  Encoding e;
  encode(text, opts, e);
  return e;
}

void Tokenizer::encode(std::string_view text, const EncodeOptions& opts, Encoding& e) const {
  if (size_t bad = unicode::find_invalid_utf8(text); bad != std::string_view::npos)
    throw Error("input is not valid UTF-8 at byte " + std::to_string(bad));
  if (text.size() >= UINT32_MAX) throw Error("input longer than 4 GiB");
  e.ids.clear();
  e.offsets.clear();
  e.special_mask.clear();

  const SpecialPolicy special{opts.parse_special, opts.special_ranges};
  // The SentencePiece fast path normalizes as it encodes: its pieces stay byte ranges of the
  // raw text (AddedVocabulary::split_raw, below); the other paths split a PreTokenizedString.
  std::optional<PreTokenizedString> split;
  if (!spm_fast_) {
    split.emplace(text);
    added_->extract_and_normalize(*split, normalizer_.get(), special);
  }

  e.ids.reserve(text.size() / 3 + 4);
  // Per-thread scratch, looked up once per call and used through references: a thread_local
  // named inside the per-word lambdas below is looked up per word (__tls_get_addr in the
  // Python module's shared object).
  struct Scratch {
    std::vector<std::pair<uint32_t, uint32_t>> byte_offsets;  // the input is under 4 GiB
    TokenValues values;  // token texts for offset-trimming post-processors
    std::vector<Token> toks;
    std::vector<SplitSpan> ranges, next_ranges, spans;
    std::vector<Piece> matches;
  };
  thread_local Scratch scratch_tls;
  Scratch& scratch = scratch_tls;
  auto& byte_offsets = scratch.byte_offsets;  // references, not a structured binding: clang 14
  auto& values = scratch.values;              // cannot capture those in a lambda
  auto& toks = scratch.toks;
  auto& ranges = scratch.ranges;
  auto& next_ranges = scratch.next_ranges;
  auto& spans = scratch.spans;
  auto& matches = scratch.matches;
  byte_offsets.clear();
  values.clear();
  const bool want_values = opts.offsets && post_processor_ && post_processor_->trims_offsets();
  // Trimming counts chars: then the offsets become chars first and bytes after processing.
  const bool bytes_now = opts.byte_offsets && !want_values;

  // Tokenizes n[a, b) with the model and records ids (and offsets in the input).
  auto emit_word = [&](const NormalizedString& n, size_t a, size_t b) {
    toks.clear();
    std::string_view text_n = n.get();
    model_->tokenize(text_n.substr(a, b - a), toks);
    const size_t shift = n.offsets_original().first;
    for (const Token& t : toks) {
      e.ids.push_back(t.id);
      if (!opts.offsets) continue;
      if (want_values) values.push_back(model_->id_to_token(t.id).value_or(std::string_view()));
      size_t s = a + t.start, f = a + t.end;
      if (byte_level_raw_) {
        s = unicode::char_floor(text_n, s);
        f = unicode::char_ceil(text_n, f);
      }
      auto r = n.normalized_to_original(s, f);
      if (r) byte_offsets.emplace_back(shift + r->first, shift + r->second);
      else byte_offsets.emplace_back(static_cast<uint32_t>(s), static_cast<uint32_t>(f));
    }
  };
  auto emit_added = [&](const NormalizedString& n, int64_t id) {
    e.ids.push_back(static_cast<uint32_t>(id));
    if (!opts.offsets) return;
    if (want_values) values.push_back(n.get());
    const size_t shift = n.offsets_original().first;
    auto r = n.normalized_to_original(0, n.size());
    if (r) byte_offsets.emplace_back(shift + r->first, shift + r->second);
    else byte_offsets.emplace_back(0, static_cast<uint32_t>(n.size()));
  };
  // Untouched text under a cut-only pre-tokenizer: cut byte ranges, no per-word objects.
  auto emit_ranges = [&](const NormalizedString& n) {
    std::string_view s = n.get();
    ranges.assign(1, {0, static_cast<uint32_t>(s.size())});
    for (const RangeStep& step : range_steps_) {
      next_ranges.clear();
      for (const SplitSpan& r : ranges) {
        step.pattern->find_matches(s.substr(r.start, r.end - r.start), matches);
        split_spans(matches, step.behavior, spans);
        for (const SplitSpan& p : spans)
          if (p.end > p.start) next_ranges.push_back({r.start + p.start, r.start + p.end});
      }
      std::swap(ranges, next_ranges);
    }
    for (const SplitSpan& r : ranges) emit_word(n, r.start, r.end);
  };

  // The fast path's offsets are byte ranges at char boundaries already: when bytes are
  // wanted, they (and the added tokens' whole ranges) go straight to the encoding.
  const bool direct = spm_fast_ && bytes_now;
  // A post-processor that only puts special tokens around the sequence (TemplateProcessing,
  // Llama's BOS): on the fast path they go in place as the encoding is built, instead of
  // being inserted at the front of every array afterwards.
  std::span<const uint32_t> before, after;
  const bool wrap_here = spm_fast_ && opts.add_special_tokens && !want_values && (direct || !opts.offsets) &&
                         post_processor_ && post_processor_->only_wraps(before, after);
  auto put_special = [&](std::span<const uint32_t> ids) {
    e.ids.insert(e.ids.end(), ids.begin(), ids.end());
    if (opts.offsets) e.offsets.insert(e.offsets.end(), ids.size(), {0, 0});
  };
  if (wrap_here) put_special(before);
  if (spm_fast_) {
    std::vector<std::pair<uint32_t, uint32_t>>& offsets = direct ? e.offsets : byte_offsets;
    thread_local std::vector<AddedVocabulary::RawSplit> pieces;
    added_->split_raw(text, special, pieces);
    for (const AddedVocabulary::RawSplit& sp : pieces) {
      const std::string_view piece = text.substr(sp.start, sp.end - sp.start);
      if (sp.id >= 0) {  // an added token: its whole range
        e.ids.push_back(static_cast<uint32_t>(sp.id));
        if (!opts.offsets) continue;
        if (want_values) values.push_back(piece);
        offsets.emplace_back(static_cast<uint32_t>(sp.start), static_cast<uint32_t>(sp.end));
        continue;
      }
      const size_t first = e.ids.size();
      spm_fast_->encode(piece, sp.start, e.ids, opts.offsets ? &offsets : nullptr);
      if (want_values)
        for (size_t k = first; k < e.ids.size(); ++k) values.push_back(model_->id_to_token(e.ids[k]).value_or(std::string_view()));
    }
  } else if (range_only_) {
    for (const Split& sp : split->splits()) {
      if (sp.added_id >= 0) {
        emit_added(sp.normalized, sp.added_id);
      } else if (sp.normalized.is_identity()) {
        emit_ranges(sp.normalized);
      } else {
        // Text the normalizer rewrote: the general path, for this piece alone.
        PreTokenizedString one(text);
        one.splits().assign(1, sp);
        pre_tokenizer_->pre_tokenize(one);
        for (const Split& w : one.splits()) emit_word(w.normalized, 0, w.normalized.size());
      }
    }
  } else {
    if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(*split);
    for (const Split& sp : split->splits()) {
      if (sp.added_id >= 0) emit_added(sp.normalized, sp.added_id);
      else emit_word(sp.normalized, 0, sp.normalized.size());
    }
  }
  if (wrap_here) put_special(after);
  e.special_mask.assign(e.ids.size(), 0);
  if (wrap_here) {
    std::fill_n(e.special_mask.begin(), before.size(), 1);
    std::fill_n(e.special_mask.end() - static_cast<std::ptrdiff_t>(after.size()), after.size(), 1);
  }
  if (opts.offsets && !direct) {
    e.offsets.reserve(byte_offsets.size());
    if (bytes_now) {
      // What CharOffsets::convert names, in bytes: each end moved back to the start of its char.
      const size_t n = text.size();
      for (auto [a, b] : byte_offsets) {
        if (a >= n) {
          e.offsets.emplace_back(static_cast<uint32_t>(a), static_cast<uint32_t>(b));
          continue;
        }
        // Nearly every offset is at a char start already: one byte tested, no call.
        auto floor = [&](size_t i) {
          return unicode::is_continuation(static_cast<unsigned char>(text[i])) ? unicode::char_floor(text, i) : i;
        };
        const size_t fa = floor(a);
        const size_t fb = b < n ? floor(b) : b == n ? n : fa + unicode::char_len(static_cast<unsigned char>(text[fa]));
        e.offsets.emplace_back(static_cast<uint32_t>(fa), static_cast<uint32_t>(fb));
      }
    } else {
      CharOffsets conv(text);
      for (auto [a, b] : byte_offsets) e.offsets.push_back(conv.convert(a, b));
    }
  }
  if (post_processor_ && !wrap_here) post_processor_->process(e, opts.add_special_tokens, opts.offsets ? &values : nullptr);
  if (opts.offsets && opts.byte_offsets && !bytes_now) {
    const std::vector<uint32_t> char_start = unicode::char_starts(text);
    for (auto& [a, b] : e.offsets) {
      a = a < char_start.size() ? char_start[a] : a;
      b = b < char_start.size() ? char_start[b] : b;
    }
  }
}

void Tokenizer::encode_batch(std::span<const std::string_view> texts, const EncodeOptions& opts, size_t threads,
                             std::vector<Encoding>& out) const {
  out.resize(texts.size());
  threads = resolve_threads(threads);
  if (threads <= 1 || texts.size() <= 1) {
    for (size_t i = 0; i < texts.size(); ++i) encode(texts[i], opts, out[i]);
    return;
  }
  // The same threads batch after batch: their word caches stay warm.
  WorkerPool::shared(threads).run(texts.size(), [&](size_t i) { encode(texts[i], opts, out[i]); });
}

std::optional<uint32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = added_->token_to_id(token)) return id;
  return model_->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(uint32_t id) const {
  if (const AddedToken* t = added_->by_id(id)) return t->content;
  if (auto s = model_->id_to_token(id)) return std::string(*s);
  return std::nullopt;
}

std::vector<uint32_t> Tokenizer::add_special_tokens(const std::vector<std::string>& contents) {
  std::vector<AddedToken> tokens = added_->tokens();
  std::vector<uint32_t> ids;
  uint32_t next_id = static_cast<uint32_t>(vocab_size());
  for (const std::string& c : contents) {
    auto known = std::find_if(tokens.begin(), tokens.end(), [&](const AddedToken& a) { return a.content == c; });
    if (known != tokens.end()) {
      ids.push_back(known->id);
      continue;
    }
    if (auto id = token_to_id(c)) {
      ids.push_back(*id);
      continue;
    }
    AddedToken t;
    t.id = next_id;
    t.content = c;
    t.special = true;
    tokens.push_back(t);
    ids.push_back(t.id);
    ++next_id;
  }
  if (tokens.size() != added_->tokens().size()) {
    added_ = std::make_unique<AddedVocabulary>(tokens, normalizer_.get());
    flat_ = std::make_unique<FlatState>();
    detect_fast_paths();
  }
  return ids;
}

size_t Tokenizer::vocab_size() const {
  size_t n = model_->vocab_size();
  for (const AddedToken& t : added_->tokens())
    if (!model_->id_to_token(t.id)) ++n;
  return n;
}

void Tokenizer::detect_fast_paths() {
  spm_fast_ = std::getenv("TOKALIGN_NO_SPM_FAST_PATH")  // the general path only (for tests)
                  ? nullptr
                  : SpmFastPath::detect(normalizer_.get(), pre_tokenizer_.get(), model_.get(), *added_);
}

const FlatDecoder* Tokenizer::flat_decoder() const {
  std::call_once(flat_->once, [&] {
    if (std::getenv("TOKALIGN_NO_FLAT_DECODE")) return;  // the general path only (for tests)
    size_t ids = 0;
    for (const AddedToken& t : added_->tokens()) ids = std::max<size_t>(ids, size_t(t.id) + 1);
    ids = std::max(ids, model_->id_end());
    FlatDecoder::Source src{ids, [&](uint32_t id) { return decode_text(id); },
                            [&](std::string_view text) { return added_->is_special_content(text); }};
    flat_->plan = FlatDecoder::compile(decoder_.get(), src);
  });
  return flat_->plan.get();
}

std::optional<std::string_view> Tokenizer::decode_text(uint32_t id) const {
  if (const AddedToken* added = added_->by_id(id)) return added->decode_text;
  return model_->id_to_token(id);
}

std::string Tokenizer::decode(std::span<const uint32_t> ids, bool skip_special_tokens) const {
  std::string out;
  decode(ids, out, skip_special_tokens);
  return out;
}

bool Tokenizer::decodes_to(std::span<const uint32_t> ids, std::string_view want) const {
  const FlatDecoder* flat = flat_decoder();
  return flat && flat->decodes_to(ids, false, want);
}

void Tokenizer::decode(std::span<const uint32_t> ids, std::string& out, bool skip_special_tokens) const {
  if (const FlatDecoder* flat = flat_decoder()) {
    flat->decode(ids, skip_special_tokens, out);
    return;
  }
  // HF Tokenizer::decode: added tokens first (by their decode text), then the model's;
  // skip_special_tokens drops texts that are the content of a special token.
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (uint32_t id : ids) {
    const std::optional<std::string_view> text = decode_text(id);
    if (!text) continue;  // unknown ids are skipped, as HF does
    if (skip_special_tokens && added_->is_special_content(*text)) continue;
    tokens.emplace_back(*text);
  }
  out.clear();
  if (!decoder_) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
    return;
  }
  decoder_->decode_chain(tokens);
  for (const std::string& t : tokens) out += t;
}

}  // namespace tokalign::tok
