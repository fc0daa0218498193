#include "compile/compiler.h"

#include <algorithm>
#include <cstring>
#include <emmintrin.h>
#include <memory>
#include <span>
#include <utility>

#include "compile/coverage.h"
#include "compile/token_checks.h"
#include "compile/token_ranges.h"
#include "unicode/categories.h"
#include "unicode/utf8.h"
#include "util/error.h"
#include "util/reuse.h"
#include "vision/image_probe.h"

namespace tokalign::compile {

using chat::Place;
using chat::Problem;
using chat::Rendered;
using chat::Role;
using chat::Segment;
using chat::SegmentKind;

namespace {

bool fail(Problem& p, std::string reason, std::string field, std::string message) {
  p = Problem{std::move(reason), std::move(field), std::move(message)};
  return false;
}

// A segment's place inside one text chunk, in bytes.
struct SegSpan {
  size_t seg;
  uint32_t start, end;
  bool trained;
};

// The char index of each byte position of `text` (size + 1 entries), for views in chars.
std::vector<uint32_t> char_index(std::string_view text) {
  std::vector<uint32_t> at(text.size() + 1);
  uint32_t c = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    at[i] = c;
    if (i + 1 == text.size() || !unicode::is_continuation(static_cast<unsigned char>(text[i + 1]))) ++c;
  }
  at[text.size()] = c;
  return at;
}

// Encodes text chunks as LLaVA's tokenizer_image_token does: each chunk on its own, the first
// chunk's leading post-processor tokens (BOS) kept once and dropped from later chunks. Calls
// emit(chunk index, encoding, index of its first kept token). `en` is scratch storage.
template <class Options, class Emit>
void encode_chunks(const tok::Tokenizer& t, size_t chunks, const Options& options_of, const Emit& emit, tok::Encoding& en) {
  size_t lead = 0;
  for (size_t k = 0; k < chunks; ++k) {
    auto [text, o] = options_of(k);
    t.encode(text, o, en);
    size_t n_lead = 0;
    while (n_lead < en.ids.size() && en.special_mask[n_lead]) ++n_lead;
    if (k == 0) lead = n_lead;
    emit(k, en, k == 0 ? 0 : std::min(lead, n_lead));
  }
}

// The first index in [u, end) whose value in `run_end` is over `limit` (end if none), four
// at a time (SSE2 compares signed: both sides are offset by 2^31).
uint32_t first_past(const uint32_t* run_end, uint32_t u, uint32_t end, uint32_t limit) {
  const __m128i bias = _mm_set1_epi32(INT32_MIN);
  const __m128i lim = _mm_set1_epi32(static_cast<int32_t>(limit ^ 0x80000000u));
  for (; u + 4 <= end; u += 4) {
    const __m128i v = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(run_end + u)), bias);
    const int over = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(v, lim)));
    if (over) return u + static_cast<uint32_t>(__builtin_ctz(static_cast<unsigned>(over)));
  }
  while (u < end && run_end[u] <= limit) ++u;
  return u;
}

// The first index in [lo, hi) whose element `past` holds for (it holds for all after it), hi if
// none: a bisection whose step is a conditional move, where std::partition_point's branch went
// either way at random (some nine mispredictions a turn).
template <class T, class Past>
uint32_t first_where(const T* v, uint32_t lo, uint32_t hi, Past past) {
  if (lo >= hi) return hi;
  const T* base = v + lo;
  size_t len = hi - lo;
  while (len > 1) {
    const size_t half = len / 2;
    base = past(base[half - 1]) ? base : base + half;
    len -= half;
  }
  return static_cast<uint32_t>(base - v) + (past(*base) ? 0 : 1);
}

}  // namespace

// One sample's working state. Each thread keeps one and reuses its storage from sample to
// sample (compile() runs on many threads at once; no allocation per sample once warm).
struct Compiler::Encoded {
  struct Chunk {
    std::string text;
    std::vector<SegSpan> segs;
    std::vector<std::pair<size_t, size_t>> special_ranges;  // bytes
    uint32_t tok_begin = 0, tok_end = 0;                     // this chunk's tokens in toks
    bool ordered = true;  // token starts and ends never decrease (as nearly always)
  };
  struct Tok {
    uint32_t start, end;  // bytes in the chunk's text (an image token: 0, 0); laid out as Encoding::offsets
  };
  // Grown with resize() and then written whole: no zeroing first (a vector value-initializes
  // what resize adds).
  template <class T>
  struct NoInit : std::allocator<T> {
    using value_type = T;
    template <class U>
    struct rebind {
      using other = NoInit<U>;
    };
    NoInit() = default;
    template <class U>
    NoInit(const NoInit<U>&) noexcept {}
    template <class U>
    void construct(U* p) noexcept {
      ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
  };
  std::vector<Chunk> chunk_store;  // the first n_chunks are this sample's
  size_t n_chunks = 0;
  std::vector<uint8_t> trained;  // per segment
  std::vector<int32_t> ids, labels;
  std::vector<Tok, NoInit<Tok>> toks;
  std::vector<uint8_t, NoInit<uint8_t>> added;  // per token: put there by the post-processor (BOS, EOS)
  // Per token, what ends a run of tokens labelled at once: its end, or UINT32_MAX for an
  // added or empty token (they are not labelled by text).
  std::vector<uint32_t, NoInit<uint32_t>> run_end;
  // Per token, its text chunk, -1 for an image token: an array of its own, which verify's
  // per-token checks read beside ids and labels at unit stride (several tokens a step).
  std::vector<int32_t> chunk_of;
  std::vector<ImageSlot> images;
  std::vector<ImageSlot> spare_images;  // slots dropped by reset(), their paths' storage kept (util/reuse.h)
  std::vector<ImageSlot> image_info;  // in: per image, width / height / visual_tokens (vision policy)
  uint32_t boundary_merges = 0;
  bool special_in_content = false;
  std::vector<std::string> special_strings;
  // Scratch.
  tok::Encoding en;
  coverage::Scratch coverage;
  std::vector<uint32_t> span_ids;
  std::vector<uint32_t> specials_found;  // special tokens whose content a message holds
  std::string expected, decoded;

  std::span<Chunk> chunks() { return {chunk_store.data(), n_chunks}; }
  std::span<const Chunk> chunks() const { return {chunk_store.data(), n_chunks}; }
  Chunk& add_chunk() {
    if (n_chunks == chunk_store.size()) chunk_store.emplace_back();
    Chunk& ch = chunk_store[n_chunks++];
    ch.text.clear();
    ch.segs.clear();
    ch.special_ranges.clear();
    ch.tok_begin = ch.tok_end = 0;
    ch.ordered = true;
    return ch;
  }
  void reset() {
    n_chunks = 0;
    trained.clear();
    ids.clear();
    labels.clear();
    toks.clear();
    added.clear();
    run_end.clear();
    chunk_of.clear();
    shrink_to(images, 0, spare_images);
    image_info.clear();
    boundary_merges = 0;
    special_in_content = false;
    special_strings.clear();
  }
};

LabelMode parse_label_mode(const std::string& name) {
  if (name == "tokalign") return LabelMode::tokalign;
  if (name == "llava") return LabelMode::llava;
  if (name == "llava-next") return LabelMode::llava_next;
  throw Error("labels: \"" + name + "\" is not one of tokalign, llava, llava-next");
}

Compiler::Compiler(const tok::Tokenizer& tokenizer, const chat::Template& tmpl, Options options)
    : tok_(tokenizer), tmpl_(tmpl), opts_(std::move(options)), wrapped_(tmpl) {
  wrapped_.image_before = tmpl.image_before + opts_.image_start;
  wrapped_.image_after = opts_.image_end + tmpl.image_after;
  llava_labels_ = opts_.labels == LabelMode::llava        ? &tmpl_.llava
                  : opts_.labels == LabelMode::llava_next ? &tmpl_.llava_next
                                                          : nullptr;
  if (const chat::LlavaLabels* ll = llava_labels_) {
    tok::EncodeOptions o;
    o.add_special_tokens = false;
    for (const std::string& s : ll->everywhere) {
      tok::Encoding en = tok_.encode(s, o);
      if (en.ids.size() == 1) everywhere_ids_.push_back(en.ids[0]);
    }
  }
  vocab_size_ = tok_.vocab_size();
  for (const chat::Role r : opts_.roles) role_trained_[static_cast<int>(r)] = true;
}

bool Compiler::segment_trained(const Segment& g, int32_t last_turn_of_role[3]) const {
  if (g.kind == SegmentKind::image) return false;
  if (opts_.train_on_prompt) return true;
  if (!role_trained_[static_cast<int>(g.role)]) return false;
  if (opts_.last_turn_only && g.turn >= 0 && g.turn != last_turn_of_role[static_cast<int>(g.role)]) return false;
  switch (g.kind) {
    case SegmentKind::system:
    case SegmentKind::user:
    case SegmentKind::assistant: return true;
    case SegmentKind::end_of_turn: return opts_.train_eos;
    case SegmentKind::scaffolding: {
      if (g.role != Role::assistant || g.turn < 0) return false;
      const chat::LlavaLabels* ll = llava_labels_;
      if (!ll) return false;
      return g.place == Place::before ? ll->assistant_header : g.place == Place::between ? ll->between : ll->after_eot;
    }
    case SegmentKind::image: return false;
  }
  return false;
}

bool Compiler::trained_everywhere(int32_t id) const {
  return std::find(everywhere_ids_.begin(), everywhere_ids_.end(), static_cast<uint32_t>(id)) != everywhere_ids_.end();
}

void Compiler::encode(const Rendered& r, Encoded& e) const {
  const auto& segs = r.segments;
  int32_t last_turn[3] = {-1, -1, -1};
  for (const Segment& g : segs) last_turn[static_cast<int>(g.role)] = std::max(last_turn[static_cast<int>(g.role)], g.turn);
  e.trained.resize(segs.size());
  for (size_t i = 0; i < segs.size(); ++i) e.trained[i] = segment_trained(segs[i], last_turn);

  // Cut the prompt at images into text chunks.
  e.add_chunk();
  for (size_t i = 0; i < segs.size(); ++i) {
    const Segment& g = segs[i];
    if (g.kind == SegmentKind::image) {
      e.add_chunk();
      continue;
    }
    Encoded::Chunk& ch = e.chunks().back();
    const uint32_t b0 = static_cast<uint32_t>(ch.text.size());
    ch.text += g.text;
    ch.segs.push_back({i, b0, static_cast<uint32_t>(ch.text.size()), e.trained[i] != 0});
    if (g.parse_special()) {
      if (!ch.special_ranges.empty() && ch.special_ranges.back().second == b0) ch.special_ranges.back().second = ch.text.size();
      else ch.special_ranges.emplace_back(b0, ch.text.size());
    } else if (g.kind == SegmentKind::user || g.kind == SegmentKind::assistant || g.kind == SegmentKind::system) {
      tok_.added_vocabulary().special_tokens_in(g.text, e.specials_found);
      for (uint32_t i : e.specials_found) {
        const std::string& s = tok_.added_vocabulary().tokens()[i].content;
        e.special_in_content = true;
        if (std::find(e.special_strings.begin(), e.special_strings.end(), s) == e.special_strings.end())
          e.special_strings.push_back(s);
      }
    }
  }

  // Encode each chunk; special tokens parsed only in the chunk's template text.
  auto options_of = [&](size_t k) {
    const Encoded::Chunk& ch = e.chunks()[k];
    tok::EncodeOptions o;
    o.add_special_tokens = tmpl_.add_special_tokens;
    o.offsets = true;
    o.byte_offsets = true;
    o.parse_special = opts_.parse_special_in_content || !ch.special_ranges.empty();
    if (!opts_.parse_special_in_content) o.special_ranges = ch.special_ranges;
    return std::pair<std::string_view, tok::EncodeOptions>(ch.text, o);
  };
  encode_chunks(tok_, e.n_chunks, options_of, [&](size_t k, const tok::Encoding& en, size_t skip) {
    Encoded::Chunk& ch = e.chunks()[k];
    const size_t at = e.toks.size(), n = en.ids.size() - skip;
    ch.tok_begin = static_cast<uint32_t>(at);
    ch.tok_end = static_cast<uint32_t>(at + n);
    e.ids.resize(at + n);
    e.toks.resize(at + n);
    e.added.resize(at + n);
    e.run_end.resize(at + n);
    e.chunk_of.resize(at + n, static_cast<int32_t>(k));
    // Through local pointers: a store through one of these vectors' elements may not be
    // assumed apart from the others' bounds, so indexing them reloads the bounds per token.
    const uint32_t* src = en.ids.data() + skip;
    const std::pair<uint32_t, uint32_t>* off = en.offsets.data() + skip;
    const uint8_t* mask = en.special_mask.data() + skip;
    // Ids, ranges and the added mask are copied whole (Tok is laid out as the offsets are);
    // run ends and order come from one pass over the ranges (token_ranges.h).
    static_assert(sizeof(Encoded::Tok) == sizeof(off[0]));
    if (n != 0) {  // (an empty chunk's vectors may have no storage: memcpy wants a pointer)
      std::memcpy(e.ids.data() + at, src, n * sizeof(uint32_t));
      std::memcpy(static_cast<void*>(e.toks.data() + at), off, n * sizeof(off[0]));
      std::memcpy(e.added.data() + at, mask, n);
      // Each token's run end, and whether token starts and ends never decrease (as nearly always).
      ch.ordered = run_ends(off, mask, n, e.run_end.data() + at);
    }
    if (k + 1 == e.n_chunks) return;
    // (every field set: a spare slot holds the last sample's)
    ImageSlot& slot = grow_one(e.images, e.spare_images);
    slot.position = static_cast<uint32_t>(e.ids.size());
    if (k < r.images.size()) slot.path.assign(r.images[k]);
    else slot.path.clear();
    const bool expand = opts_.image_tokens == ImageTokens::expand;
    const bool sized = k < e.image_info.size();
    slot.width = sized ? e.image_info[k].width : 0;
    slot.height = sized ? e.image_info[k].height : 0;
    slot.visual_tokens = sized ? e.image_info[k].visual_tokens : 0;
    slot.token_count = !expand ? 1 : slot.visual_tokens ? slot.visual_tokens : opts_.image_token_count;
    for (uint32_t t = 0; t < slot.token_count; ++t) {
      e.ids.push_back(expand ? static_cast<int32_t>(opts_.image_token_id) : kImagePlaceholder);
      e.toks.push_back({0, 0});
      e.added.push_back(0);
      e.run_end.push_back(UINT32_MAX);
      e.chunk_of.push_back(-1);
    }
  }, e.en);

  // Labels through offsets: a token is trained when it covers a trained character. A chunk's
  // tokens come (nearly always) in text order, so one cursor walks its segments.
  e.labels.assign(e.ids.size(), kIgnoreIndex);
  int32_t* labels = e.labels.data();
  const int32_t* ids = e.ids.data();
  const Encoded::Tok* toks = e.toks.data();
  const bool everywhere = !everywhere_ids_.empty();
  for (Encoded::Chunk& ch : e.chunks()) {
    const SegSpan* ss = ch.segs.data();
    const size_t n_segs = ch.segs.size();
    // A token over more than one segment (`si`: the first ending after its start) is trained
    // when any of them is; untrained text under it other than whitespace (a leading space
    // merged into the next word is LLaVA's "-2") makes it a boundary merge.
    auto across = [&](uint32_t t, size_t si) {
      const uint32_t start = toks[t].start, end = toks[t].end;
      bool any_trained = false, untrained_text = false;
      for (size_t j = si; j < n_segs && ss[j].start < end; ++j) {
        if (ss[j].end <= ss[j].start || ss[j].end <= start) continue;
        if (ss[j].trained) {
          any_trained = true;
          continue;
        }
        const size_t b = std::min(end, ss[j].end);
        for (size_t i = std::max(start, ss[j].start); i < b;) {
          const char32_t c = unicode::decode(ch.text, i);
          if (!unicode::is_whitespace(c)) untrained_text = true;
        }
      }
      if (any_trained) {
        labels[t] = ids[t];
        if (untrained_text) ++e.boundary_merges;
      }
    };
    size_t si = 0;
    if (ch.ordered && !everywhere && n_segs > 0) {
      // Tokens in text order: the segment cursor only moves forward, and each run of tokens
      // inside one segment is labelled at once.
      for (uint32_t t = ch.tok_begin; t < ch.tok_end;) {
        const uint32_t start = toks[t].start, end = toks[t].end;
        if (e.run_end[t] == UINT32_MAX) {  // added, or empty
          ++t;
          continue;
        }
        while (si + 1 < n_segs && ss[si].end <= start) ++si;
        if (ss[si].start > start || end > ss[si].end) {
          across(t++, si);
          continue;
        }
        const uint32_t seg_end = ss[si].end;
        const uint32_t u = first_past(e.run_end.data(), t + 1, ch.tok_end, seg_end);  // the next tokens inside the segment
        if (ss[si].trained) std::memcpy(labels + t, ids + t, (u - t) * sizeof(int32_t));
        t = u;
      }
      continue;
    }
    for (uint32_t t = ch.tok_begin; t < ch.tok_end; ++t) {
      const uint32_t start = toks[t].start, end = toks[t].end;
      if (e.added[t]) continue;
      if (everywhere && trained_everywhere(ids[t])) {
        labels[t] = ids[t];
        continue;
      }
      if (end <= start || n_segs == 0) continue;
      // The first segment ending after the token's start (ends never decrease).
      while (si + 1 < n_segs && ss[si].end <= start) ++si;
      while (si > 0 && ss[si - 1].end > start) --si;
      if (ss[si].start <= start && end <= ss[si].end) {  // inside one segment: the common case
        if (ss[si].trained) labels[t] = ids[t];
        continue;
      }
      across(t, si);
    }
  }
}

bool Compiler::verify(const Rendered& r, Encoded& e, Sample& s, Problem& p) const {
  // The per-token checks (compile/token_checks.h); failures are reported in the order of the
  // checks (an id out of range before a labelled image token).
  const size_t n = s.input_ids.size();
  const int32_t* ids = s.input_ids.data();
  const int32_t* labels = s.labels.data();
  const Encoded::Tok* toks = e.toks.data();
  const TokenFaults faults = check_tokens(ids, labels, e.chunk_of.data(), n,
                                          static_cast<uint32_t>(std::min<size_t>(vocab_size_, UINT32_MAX)));
  constexpr size_t kNone = TokenFaults::kNone;
  const size_t bad_id = faults.bad_id, bad_label = faults.bad_label, trained = faults.trained;
  if (bad_id != kNone)
    return fail(p, check::id_range, "input_ids[" + std::to_string(bad_id) + "]",
                "id " + std::to_string(s.input_ids[bad_id]) + " is outside the vocabulary (size " +
                    std::to_string(vocab_size_) + ")");
  if (s.images.size() != r.images.size())
    return fail(p, check::image_slots, "images",
                std::to_string(s.images.size()) + " image slots for " + std::to_string(r.images.size()) + " images");
  if (bad_label != kNone)
    return fail(p, check::image_label, "labels[" + std::to_string(bad_label) + "]", "an image token carries a label");
  if (trained == 0) return fail(p, check::zero_trained, "labels", "no token is trained");

  // Per chunk: every character of trained text is covered by a trained token, and every
  // trained token (other than the ones trained everywhere) covers trained text. Offsets are
  // char boundaries in bytes, so bytes stand for chars here.
  for (size_t k = 0; k < e.n_chunks; ++k) {
    const Encoded::Chunk& ch = e.chunks()[k];
    const coverage::Fault f = coverage::check(
        ch.text.size(), ch.segs.data(), ch.segs.size(), e.toks.data(), ch.tok_begin, ch.tok_end, ch.ordered,
        [&](size_t t) { return labels[t] != kIgnoreIndex; }, [&](size_t t) { return trained_everywhere(ids[t]); },
        e.coverage, coverage::LabelArray{labels, kIgnoreIndex});
    if (f.kind == coverage::Fault::untrained_text_labelled)
      return fail(p, check::untrained_text_labelled, "labels[" + std::to_string(f.at) + "]",
                  "a token over untrained text carries a label");
    if (f.kind == coverage::Fault::trained_text_unlabelled)
      return fail(p, check::trained_text_unlabelled, "labels",
                  "trained text at character " + std::to_string(unicode::count_chars(std::string_view(ch.text).substr(0, f.at))) +
                      " of chunk " + std::to_string(k) + " has no trained token");
  }

  // Decoding each trained assistant turn gives back its text (and end-of-turn).
  // The decoded text is the expected one, or that without a leading space (a decoder's Strip
  // drops it), compared in place as the pieces come; false sends the caller to decode.
  auto decodes_to = [&](std::span<const uint32_t> span, std::string_view want) {
    return tok_.decodes_to(span, want) || (!want.empty() && want[0] == ' ' && tok_.decodes_to(span, want.substr(1)));
  };
  for (size_t k = 0; k < e.n_chunks; ++k) {
    const Encoded::Chunk& ch = e.chunks()[k];
    // Tokens in text order (starts and ends never decreasing, as nearly always) let each
    // turn start where the previous one's tokens ended; otherwise every turn scans them all.
    const bool ordered = ch.ordered;  // found as encode copied the chunk's tokens
    uint32_t first_tok = ch.tok_begin;
    for (size_t a = 0; a < ch.segs.size();) {
      const Segment& g = r.segments[ch.segs[a].seg];
      if (g.kind != SegmentKind::assistant || !e.trained[ch.segs[a].seg]) {
        ++a;
        continue;
      }
      // The turn's trained segments in this chunk.
      uint32_t c0 = ch.segs[a].start, c1 = ch.segs[a].end;
      size_t b = a + 1;
      while (b < ch.segs.size() && r.segments[ch.segs[b].seg].turn == g.turn) {
        if (e.trained[ch.segs[b].seg]) c1 = ch.segs[b].end;
        ++b;
      }
      // The text the turn's trained tokens cover, in order (untrained tokens in between,
      // like the space before Mistral's " </s>", are left out on both sides).
      e.span_ids.clear();
      e.expected.clear();
      uint32_t done = 0;
      // Runs of adjacent tokens' text: nearly always one, which the expected text is a view of;
      // with more, each is appended to e.expected as the next begins.
      uint32_t run_start = 0, run_end = 0;
      size_t runs = 0;
      uint32_t t = first_tok;
      if (ordered) {
        // Ends never decrease: the first token ending past c0, by bisection.
        t = first_tok = first_where(toks, first_tok, ch.tok_end, [c0](const Encoded::Tok& x) { return x.end > c0; });
        // Nearly always the turn's tokens are all labelled and each starts where the one
        // before ends: then they are the span, and the text from the first's start to the last's
        // end is the run (two passes without branches, where the loop below takes each token).
        const uint32_t last = first_where(toks, first_tok, ch.tok_end, [c1](const Encoded::Tok& x) { return x.start >= c1; });
        uint32_t broken = 0;
        for (uint32_t u = first_tok; u < last; ++u) broken |= static_cast<uint32_t>(labels[u] == kIgnoreIndex);
        if (!broken && last > first_tok && contiguous(&toks[first_tok].start, last - first_tok)) {
          const std::span<const uint32_t> span(reinterpret_cast<const uint32_t*>(ids + first_tok), last - first_tok);
          const uint32_t from = toks[first_tok].start, to = toks[last - 1].end;
          const std::string_view want = std::string_view(ch.text).substr(from, to - from);
          if (decodes_to(span, want)) {
            a = b;
            continue;
          }
        }
      }
      // The general case (and where the span above did not decode to its text: the same
      // span, compared below with decode() and the fallbacks, which report the fault).
      for (; t < ch.tok_end; ++t) {
        const uint32_t start = toks[t].start, end = toks[t].end;
        if (ordered && start >= c1) break;
        if (labels[t] == kIgnoreIndex || end <= c0 || start >= c1) continue;
        e.span_ids.push_back(static_cast<uint32_t>(ids[t]));
        const uint32_t from = std::max(done, start);
        if (end > from) {
          if (runs == 0 || from != run_end) {
            if (runs > 0) e.expected.append(ch.text, run_start, run_end - run_start);
            ++runs;
            run_start = from;
          }
          run_end = end;
        }
        done = std::max(done, end);
      }
      const std::string_view run = std::string_view(ch.text).substr(run_start, run_end - run_start);
      if (runs > 1) e.expected.append(run);
      // Compared in place first, else decoded and compared.
      if (decodes_to(e.span_ids, runs > 1 ? std::string_view(e.expected) : run)) {
        a = b;
        continue;
      }
      if (runs <= 1) e.expected.assign(run);
      tok_.decode(e.span_ids, e.decoded);
      auto same = [](std::string_view x, std::string_view want) {
        return x == want || (!want.empty() && want[0] == ' ' && x == want.substr(1));
      };
      bool ok = same(e.decoded, e.expected);
      if (!ok) {
        // Some tokenizers do not decode back to their input (Yi's tokenizer.json turns
        // ", with" into ",", "▁▁", "with" and decodes two spaces). Then the span must decode
        // like the same text encoded on its own does.
        tok::EncodeOptions o;
        o.add_special_tokens = false;
        const std::string alone = tok_.decode(tok_.encode(e.expected, o).ids);
        ok = same(e.decoded, alone) || same(alone, e.decoded);
      }
      if (!ok)
        return fail(p, check::decode, "messages[" + std::to_string(g.turn) + "]",
                    "decoding the trained tokens gives \"" + e.decoded + "\", expected \"" + e.expected + "\"");
      a = b;
    }
  }
  s.trained = static_cast<uint32_t>(trained);  // (the hand-on thread reads no label for it)
  return true;
}

void Compiler::provenance(const Rendered& r, const Encoded& e, Sample& out) const {
  out.provenance.resize(e.toks.size());
  // Per chunk, byte -> char, and where the chunk starts in the rendered prompt, in chars.
  std::vector<std::vector<uint32_t>> chars;
  std::vector<uint32_t> base(e.n_chunks, 0);
  for (size_t k = 0; k < e.n_chunks; ++k) {
    chars.push_back(char_index(e.chunks()[k].text));
    if (k > 0) base[k] = base[k - 1] + chars[k - 1].back() + 7;  // + "<image>"
  }
  size_t image = 0;
  for (size_t t = 0; t < e.toks.size(); ++t) {
    const Encoded::Tok& tk = e.toks[t];
    shard::TokenProvenance& p = out.provenance[t];
    if (e.chunk_of[t] < 0) {  // an image token: its slot's image segment
      size_t seen = 0;
      for (const Segment& g : r.segments)
        if (g.kind == SegmentKind::image && seen++ == image) {
          p = {"image", chat::role_name(g.role), g.turn, {}};
          p.start = base[image] + chars[image].back();
          p.end = p.start + 7;
          break;
        }
      if (t + 1 >= e.toks.size() || e.chunk_of[t + 1] >= 0) ++image;
      continue;
    }
    const size_t k = static_cast<size_t>(e.chunk_of[t]);
    const Encoded::Chunk& ch = e.chunks()[k];
    const std::vector<uint32_t>& at = chars[k];
    auto char_of = [&](uint32_t byte) { return byte < at.size() ? at[byte] : byte; };
    if (e.added[t]) {
      p = {"added", "system", -1, {}};
      p.start = p.end = base[k] + char_of(tk.start);
      continue;
    }
    if (tk.end > tk.start && tk.end <= ch.text.size()) p.text = ch.text.substr(tk.start, tk.end - tk.start);
    p.start = base[k] + char_of(tk.start);
    p.end = base[k] + char_of(tk.end);
    if (t > 0 && e.chunk_of[t - 1] == e.chunk_of[t] && !e.added[t - 1] && e.toks[t - 1].start == tk.start &&
        e.toks[t - 1].end == tk.end && tk.end > tk.start)
      p.shares_text = out.provenance[t - 1].shares_text = true;
    const SegSpan* pick = nullptr;
    for (const SegSpan& ss : ch.segs) {
      if (ss.end <= tk.start || ss.start >= std::max(tk.end, tk.start + 1)) continue;
      if (!pick || (out.labels[t] != kIgnoreIndex && e.trained[ss.seg] && !e.trained[pick->seg])) pick = &ss;
    }
    if (!pick) {
      p.segment = "scaffolding";
      p.role = "system";
      continue;
    }
    const Segment& g = r.segments[pick->seg];
    p.segment = chat::segment_kind_name(g.kind);
    p.role = chat::role_name(g.role);
    p.turn = g.turn;
  }
  // What Hugging Face's defaults give for the same prompt (special tokens parsed in message
  // text too); kept only where it differs.
  std::vector<int32_t> ref;
  auto defaults = [&](size_t k) {
    tok::EncodeOptions o;
    o.add_special_tokens = tmpl_.add_special_tokens;
    return std::pair<std::string_view, tok::EncodeOptions>(e.chunks()[k].text, o);
  };
  tok::Encoding scratch;
  encode_chunks(tok_, e.n_chunks, defaults, [&](size_t k, const tok::Encoding& en, size_t skip) {
    for (size_t j = skip; j < en.ids.size(); ++j) ref.push_back(static_cast<int32_t>(en.ids[j]));
    if (k + 1 < e.n_chunks)
      ref.insert(ref.end(), out.images[k].token_count, out.input_ids[out.images[k].position]);
  }, scratch);
  if (ref != out.input_ids) out.reference_ids = std::move(ref);
}

bool Compiler::compile(const chat::Conversation& c, Sample& out, Problem& problem) const {
  // The conversation with its images placed: `c` itself unless placing changes it (then the
  // thread's copy, its storage reused from sample to sample), or turns are dropped below.
  thread_local chat::Conversation scratch;
  const chat::Conversation* conv = &chat::placed(c, scratch, opts_.placement);
  thread_local Encoded e;
  // The sample's image slots (the last sample's) go to this thread's spares, their paths'
  // storage kept, before the sample is emptied.
  shrink_to(out.images, 0, e.spare_images);
  out.clear();
  out.id = c.id;
  // With a vision policy, every image's size from its header and its count.
  std::vector<ImageSlot> info;
  if (opts_.vision) {
    for (size_t k = 0; k < conv->images.size(); ++k) {
      try {
        const vision::ImageInfo im = vision::probe_image_file(vision::resolve_image_path(opts_.image_root, conv->images[k]));
        ImageSlot x;
        x.width = im.width;
        x.height = im.height;
        x.visual_tokens = static_cast<uint32_t>(vision::count_tokens(*opts_.vision, im.width, im.height).tokens);
        info.push_back(x);
      } catch (const Error& err) {
        return fail(problem, "image_unreadable", "images[" + std::to_string(k) + "]", err.what());
      }
    }
  }
  for (;;) {
    thread_local Rendered r;
    if (!wrapped_.render(*conv, r, problem)) return false;
    e.reset();
    e.image_info = info;
    encode(r, e);
    // The length the model sees: placeholders count as their expansion.
    const size_t length = Sample::with_images(e.ids.size(), e.images);
    if (opts_.max_len && length > opts_.max_len) {
      // Drop the earliest user/assistant pair (and its images) and try again.
      const size_t first = !conv->messages.empty() && conv->messages[0].role == Role::system ? 1 : 0;
      if (conv->messages.size() - first <= 2)
        return fail(problem, "too_long", "messages",
                    std::to_string(length) + " tokens" + (length != e.ids.size() ? " (images counted)" : "") +
                        ", over --max-len " + std::to_string(opts_.max_len) +
                        (out.dropped_turns ? " after dropping " + std::to_string(out.dropped_turns) + " earlier messages"
                                           : std::string()));
      if (conv != &scratch) {
        chat::copy_reusing(*conv, scratch);
        conv = &scratch;
      }
      size_t imgs = 0;
      for (size_t i = first; i < first + 2; ++i) imgs += chat::count_occurrences(scratch.messages[i].content, chat::kImageToken);
      scratch.messages.erase(scratch.messages.begin() + static_cast<long>(first), scratch.messages.begin() + static_cast<long>(first + 2));
      scratch.images.erase(scratch.images.begin(), scratch.images.begin() + static_cast<long>(std::min(imgs, scratch.images.size())));
      info.erase(info.begin(), info.begin() + static_cast<long>(std::min(imgs, info.size())));
      out.dropped_turns += 2;
      out.flags |= kTruncated;
      continue;
    }
    if (opts_.keep_segments)
      for (const Segment& g : r.segments)
        out.segments.push_back({chat::segment_kind_name(g.kind), std::string(g.text), chat::role_name(g.role), g.turn});
    out.special_strings = e.special_strings;
    // The sample takes the vectors (and leaves its emptied storage for the next encode).
    out.input_ids.swap(e.ids);
    out.labels.swap(e.labels);
    out.images.swap(e.images);  // (e keeps the sample's emptied vector for the next encode)
    if (opts_.keep_provenance) provenance(r, e, out);
    out.boundary_merges = e.boundary_merges;
    if (e.boundary_merges) out.flags |= kBoundaryMerge;
    if (e.special_in_content) out.flags |= kSpecialInContent;
    // verify reads ids and labels from the sample.
    return verify(r, e, out, problem);
  }
}

}  // namespace tokalign::compile
