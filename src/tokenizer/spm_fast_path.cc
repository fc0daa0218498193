#include "tokenizer/spm_fast_path.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <emmintrin.h>
#include <string>
#include <type_traits>

#include "tokenizer/hot_words.h"
#include "tokenizer/pattern.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

namespace {

constexpr std::string_view kMeta = "\xE2\x96\x81";  // U+2581

// Pieces recently encoded at an input's start (their first bytes), with the tokens of those
// bytes, ranges relative to the piece. Samples of one dataset begin alike (a chat template's
// system prompt and first role header): a new such piece copies the tokens of the words it
// shares with one of these and encodes from the first word that differs. A piece is kept
// short (kFirstBytes) and grows, up to kMaxBytes, each time a new piece shares all of it, so
// that pieces which never recur cost little to keep. A sample's later text chunks (after an
// image) start inputs too, so a few pieces are kept.
struct RecentPieces {
  static constexpr size_t kFirstBytes = 256, kMaxBytes = 4096, kSlots = 4;
  struct Piece {
    std::string text;
    uint64_t last_use = 0;
    std::vector<uint32_t> ids;
    SpmFastPath::Offsets offsets;
  };
  std::array<Piece, kSlots> slots;
  uint64_t clock = 0;
  size_t reused_tokens = 0;
};

size_t common_prefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return i + static_cast<size_t>(__builtin_ctzll(x ^ y)) / 8;
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

// What one thread keeps for one SpmFastPath: its table of input words (of the kind the
// vocabulary allows, made on first use) and recent pieces.
struct SpmFastPath::ThreadState {
  std::unique_ptr<CompactHotWords> compact;
  std::unique_ptr<HotWords> wide;
  RecentPieces recent;
  bool joined = false;  // counted in shared_'s threads
};

std::unique_ptr<SpmFastPath> SpmFastPath::detect(const Normalizer* normalizer, const PreTokenizer* pre_tokenizer,
                                                 const Model* model, const AddedVocabulary& added) {
  const auto* bpe = dynamic_cast<const BpeModel*>(model);
  if (!bpe || bpe->byte_level() || !bpe->spm_cuts()) return nullptr;
  // Metaspace("▁", split: false) and no normalizer: what a tokenizer.model converts to
  // (transformers' LlamaConverter; tokenizer/sentencepiece/convert.cc), e.g. Vicuna's as
  // LLaVA-1.5 ships it. The prepend scheme decides which pieces get the "▁".
  if (!normalizer) {
    const auto* meta = dynamic_cast<const MetaspacePreTokenizer*>(pre_tokenizer);
    if (!meta || meta->replacement() != U'\u2581' || meta->split()) return nullptr;
    const Prepend prepend = meta->scheme() == PrependScheme::Always  ? Prepend::unless_meta
                            : meta->scheme() == PrependScheme::First ? Prepend::at_input_start
                                                                     : Prepend::never;
    return std::unique_ptr<SpmFastPath>(new SpmFastPath(*bpe, prepend));
  }
  // Sequence[Prepend("▁"), Replace(" ", "▁")] and no pre-tokenizer: Llama-2's tokenizer.json.
  if (pre_tokenizer) return nullptr;
  const auto* seq = dynamic_cast<const SequenceNormalizer*>(normalizer);
  if (!seq || seq->items().size() != 2) return nullptr;
  const auto* prepend = dynamic_cast<const PrependNormalizer*>(seq->items()[0].get());
  const auto* replace = dynamic_cast<const ReplaceNormalizer*>(seq->items()[1].get());
  if (!prepend || !replace || prepend->prepend() != kMeta || replace->content() != kMeta) return nullptr;
  const auto* literal = dynamic_cast<const StringPattern*>(&replace->pattern());
  if (!literal || literal->literal() != " ") return nullptr;
  for (const AddedToken& t : added.tokens())
    if (t.normalized) return nullptr;
  return std::unique_ptr<SpmFastPath>(new SpmFastPath(*bpe, Prepend::always));
}

SpmFastPath::SpmFastPath(const BpeModel& m, Prepend prepend)
    : model_(m),
      prepend_(prepend),
      // The compact word table holds ids in 16 bits (TOKALIGN_WIDE_WORD_TABLE: the other, for tests).
      compact_(m.vocab_size() <= 65536 && !std::getenv("TOKALIGN_WIDE_WORD_TABLE")),
      uid_(new_uid()),
      shared_(compact_ ? std::make_unique<SharedCompactWords>() : nullptr) {}

bool SpmFastPath::prepends(std::string_view p, size_t shift) const {
  // Metaspace (HF pre_tokenizers/metaspace.rs) prepends to a piece that does not start with
  // "▁" once its spaces are "▁"s; scheme First only to the piece at the input's start.
  switch (prepend_) {
    case Prepend::always: return true;
    case Prepend::never: return false;
    case Prepend::at_input_start:
      if (shift != 0) return false;
      [[fallthrough]];
    case Prepend::unless_meta: return p[0] != ' ' && p.substr(0, kMeta.size()) != kMeta;
  }
  return true;
}

namespace {

// Appends tokens to the ids and ranges vectors through raw pointers, in step: both are grown
// ahead (value-initialized) and cut back to what was written when done, so a word's tokens
// are plain stores, with one room check per word (one count for both vectors) instead of a
// capacity check per token.
class Tails {
 public:
  using Range = std::pair<uint32_t, uint32_t>;
  Tails(std::vector<uint32_t>& ids, std::vector<Range>& ranges, size_t expect)
      : ids_(ids), ranges_(ranges), id0_(ids.size()), range0_(ranges.size()) {
    ids_.resize(id0_ + expect);
    ranges_.resize(range0_ + expect);
    set();
  }
  ~Tails() {
    ids_.resize(id0_ + n_);
    ranges_.resize(range0_ + n_);
  }
  Tails(const Tails&) = delete;
  Tails& operator=(const Tails&) = delete;
  // Room for k more tokens.
  void room(size_t k) {
    if (cap_ - n_ < k) grow(k);
  }
  uint32_t* ids() const { return id_ + n_; }
  Range* ranges() const { return range_ + n_; }
  void advance(size_t k) { n_ += k; }
  // A word's tokens from a word table's entry (hot_words.h): its ids, and its ranges at `at`.
  // The entry writes kRoom ids and ranges for every token it can hold and a few more (those
  // past its count are overwritten or cut off later): a fixed count, where a loop of count
  // iterations was a branch predicted wrong.
  template <size_t kRoom, class Entry>
  [[gnu::always_inline]] void put(const Entry& h, uint32_t at) {
    const size_t n = h.count();
    room(kRoom);
    h.copy_ids(ids());
    h.copy_ranges(at, ranges());
    advance(n);
  }

 private:
  [[gnu::noinline]] void grow(size_t k) {
    const size_t want = std::max(2 * cap_, n_ + k);
    ids_.resize(id0_ + want);
    ranges_.resize(range0_ + want);
    set();
  }
  void set() {
    id_ = ids_.data() + id0_;
    range_ = ranges_.data() + range0_;
    cap_ = std::min(ids_.size() - id0_, ranges_.size() - range0_);
  }
  std::vector<uint32_t>& ids_;
  std::vector<Range>& ranges_;
  size_t id0_, range0_;  // the sizes before
  uint32_t* id_;
  Range* range_;
  size_t n_ = 0, cap_ = 0;  // tokens written, and room for
};

}  // namespace

[[gnu::always_inline]] inline bool SpmFastPath::cut_at(std::string_view p, size_t i) const {
  // As encode's scan decides: a space, not at the start, after a char a merge cannot reach past.
  if (i == 0 || p[i] != ' ') return false;
  char32_t prev = static_cast<unsigned char>(p[i - 1]);
  if (prev == ' ') prev = U'\u2581';
  else if (prev >= 0x80) prev = unicode::char_before(p, i);
  return model_.spm_cut_after(prev);
}

void SpmFastPath::encode(std::string_view p, size_t shift, std::vector<uint32_t>& ids, Offsets* offsets) const {
  if (p.empty()) return;  // Prepend leaves an empty piece empty
  ThreadState& state = per_thread<ThreadState>(uid_);
  thread_local Offsets unwanted;  // offsets nobody asked for (the word table and RecentPieces keep them)
  unwanted.clear();
  Offsets& offs = offsets ? *offsets : unwanted;
  auto words = [&](size_t from) {
    if (compact_) {
      if (!state.compact) state.compact = std::make_unique<CompactHotWords>();
      if (!state.joined) {
        state.joined = true;
        shared_->join();
      }
      encode_words(p, shift, from, *state.compact, ids, offs);
    } else {
      if (!state.wide) state.wide = std::make_unique<HotWords>();
      encode_words(p, shift, from, *state.wide, ids, offs);
    }
  };
  if (shift != 0) return words(0);
  // At an input's start: the tokens of words shared with a recent such piece are copied, and
  // the words from the first cut past them are encoded.
  const size_t base = ids.size(), off_base = offs.size();
  const Reuse reuse = reuse_recent(p, state, ids, offs);
  words(reuse.cut);
  remember_recent(p, state, reuse, {ids.data() + base, ids.size() - base},
                  {offs.data() + off_base, offs.size() - off_base});
}

template <class Table>
void SpmFastPath::encode_words(std::string_view p, size_t shift, size_t from, Table& hot, std::vector<uint32_t>& ids,
                               Offsets& offs) const {
  const bool prepend = prepends(p, shift);
  // Room for one token per 4 bytes (running text has one per 4.4 bytes; what Tails adds is
  // zero-filled first, so more than that costs every piece); more is grown as needed.
  const size_t expect = p.size() / 4 + Table::kRoom;
  Tails out(ids, offs, expect);

  // Each word's tokens, with byte ranges in the word's input: from the per-thread table of
  // short input words (flag 1: the piece's first word when it gets the prepended "▁"), else
  // through the model (out of line, so that the table's hits stay in this loop).
  const char* const text = p.data();
  using Probe = typename Table::Probe;
  // `keep`: the word goes into the table, probed again here (the loop's probe is not kept
  // alive across this call, so its fields stay in registers on a hit); the table is not
  // touched between that probe and the store (encode_word goes through the model's caches).
  // With other threads encoding through this path, a word this thread's table lacks may be
  // in the table they share (shared_words.h); a word encoded here goes there too.
  constexpr bool kShares = std::is_same_v<Table, CompactHotWords>;
  auto miss = [&](std::string_view in, bool first, uint32_t at, bool keep) __attribute__((noinline)) {
    Probe probe{};
    if (keep) probe = hot.probe(in, first, at - shift + 16 <= p.size());
    const bool share = kShares && keep && shared_->in_use();
    if constexpr (kShares) {
      CompactHotWord e;
      if (share && shared_->find(probe.k0, probe.k1, e)) {
        Table::store_entry(probe, e);
        out.template put<Table::kRoom>(e, at);
        return;
      }
    }
    thread_local std::vector<uint32_t> word_ids;
    thread_local Offsets word_offs;
    word_ids.clear();
    word_offs.clear();
    encode_word(in, first, word_ids, word_offs, at);
    const size_t n = word_ids.size();
    out.room(n);
    std::memcpy(out.ids(), word_ids.data(), n * sizeof(uint32_t));
    std::memcpy(static_cast<void*>(out.ranges()), word_offs.data(), n * sizeof(word_offs[0]));
    out.advance(n);
    if (!keep || n > Table::kMaxTokens) return;
    uint8_t start[Table::kMaxTokens], end[Table::kMaxTokens];
    // (k < kMaxTokens as well, though n is at most that: GCC's loop peeling in the
    // profile-guided build otherwise warns of a write past the arrays)
    for (size_t k = 0; k < n && k < Table::kMaxTokens; ++k) {
      start[k] = static_cast<uint8_t>(word_offs[k].first - at);
      end[k] = static_cast<uint8_t>(word_offs[k].second - at);
    }
    Table::store(probe, n, word_ids.data(), start, end);
    if constexpr (kShares) {
      // (store keeps no word with an id past 16 bits: the slot then holds another word)
      if (share && probe.slot->k0 == probe.k0 && probe.slot->k1 == probe.k1) shared_->add(*probe.slot);
    }
  };
  auto word = [&](size_t a, size_t b) __attribute__((always_inline)) {
    const uint32_t at = static_cast<uint32_t>(shift + a);
    const std::string_view in(text + a, b - a);
    const bool first = a == 0 && prepend;
    if (in.size() > Table::kMaxLen) return miss(in, first, at, false);
    const Probe probe = hot.probe(in, first, a + 16 <= p.size());
    if (!probe.hit()) return miss(in, first, at, true);
    out.template put<Table::kRoom>(*probe.slot, at);
  };

  // The words, each encoded as its end is found: the piece is cut before each space whose
  // preceding char (in the normalized text: "▁" for a space or the prepended one) allows it.
  size_t word_start = from;
  auto at_space = [&](size_t i) __attribute__((always_inline)) {
    if (!cut_at(p, i)) return;
    word(word_start, i);
    word_start = i;
  };
  const size_t size = p.size();
  size_t i = from == 0 ? 0 : from + 1;  // a word starts at `from`
  // Spaces 64 bytes at a time, as a bit mask: the loop over its bits ends once a block, where
  // the loop over each 8 bytes' spaces (0 to 3 of them) ended at a branch often predicted wrong.
  const __m128i space = _mm_set1_epi8(' ');
  for (; i + 64 <= size; i += 64) {
    uint64_t spaces = 0;
    for (int k = 0; k < 4; ++k) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + i + 16 * k));
      spaces |= static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, space)))) << (16 * k);
    }
    while (spaces) {
      at_space(i + static_cast<size_t>(__builtin_ctzll(spaces)));
      spaces &= spaces - 1;
    }
  }
  // The rest eight bytes at a time: a byte of x is zero where p has a space.
  for (; i + 8 <= size; i += 8) {
    uint64_t x;
    std::memcpy(&x, text + i, 8);
    x ^= 0x2020202020202020ull;
    uint64_t zero = (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
    while (zero) {
      const size_t k = static_cast<size_t>(__builtin_ctzll(zero)) / 8;
      // The borrow trick may also flag the byte after a zero byte: check each hit.
      if (text[i + k] == ' ') at_space(i + k);
      zero &= zero - 1;
    }
  }
  for (; i < size; ++i)
    if (text[i] == ' ') at_space(i);
  word(word_start, size);
}

SpmFastPath::Reuse SpmFastPath::reuse_recent(std::string_view p, ThreadState& state,
                                             std::vector<uint32_t>& ids, Offsets& offsets) const {
  RecentPieces& recent = state.recent;
  Reuse best;
  for (size_t k = 0; k < RecentPieces::kSlots; ++k) {
    const RecentPieces::Piece& r = recent.slots[k];
    if (r.text.empty() || r.text[0] != p[0]) continue;
    // The last cut inside the shared bytes: the words before it are the same words, cut at
    // the same places (a cut depends on the bytes before it only), so their tokens are too
    // (the first gets the prepended "▁" in both or in neither: at an input's start that
    // depends on the first char only).
    const size_t same = common_prefix(p, r.text);
    size_t c = same;
    while (c > best.cut && !cut_at(p, --c)) {}
    if (c > best.cut) best = {k, c, 0, same};
  }
  if (best.slot == kNone) return best;
  const RecentPieces::Piece& r = recent.slots[best.slot];
  // Their tokens: those starting before the cut (a word's tokens lie inside its bytes).
  const auto* o = r.offsets.data();
  const size_t m = static_cast<size_t>(
      std::lower_bound(o, o + r.offsets.size(), best.cut, [](const auto& t, size_t at) { return t.first < at; }) - o);
  if (m == 0 || o[m - 1].second > best.cut) return Reuse{};  // not a token boundary: encode it all
  ids.insert(ids.end(), r.ids.begin(), r.ids.begin() + static_cast<ptrdiff_t>(m));
  offsets.insert(offsets.end(), o, o + m);
  best.tokens = m;
  recent.reused_tokens += m;
  return best;
}

void SpmFastPath::remember_recent(std::string_view p, ThreadState& state, const Reuse& reuse,
                                  std::span<const uint32_t> ids,
                                  std::span<const std::pair<uint32_t, uint32_t>> offsets) const {
  RecentPieces& recent = state.recent;
  size_t slot = reuse.slot, keep_tokens = reuse.tokens, keep;
  if (slot != kNone) {
    // The piece it reused grows when all of it was shared (and the new piece goes on).
    RecentPieces::Piece& r = recent.slots[slot];
    r.last_use = ++recent.clock;
    const size_t have = r.text.size();
    if (reuse.same < have || have >= RecentPieces::kMaxBytes || p.size() <= have) return;
    keep = std::min({p.size(), 2 * have, RecentPieces::kMaxBytes});
  } else {
    // A new piece, into the least recently used slot.
    slot = 0;
    for (size_t k = 1; k < RecentPieces::kSlots; ++k)
      if (recent.slots[k].last_use < recent.slots[slot].last_use) slot = k;
    recent.slots[slot].last_use = ++recent.clock;
    keep = std::min(p.size(), RecentPieces::kFirstBytes);
    keep_tokens = 0;
  }
  RecentPieces::Piece& r = recent.slots[slot];
  r.text.assign(p.data(), keep);
  // The tokens inside the kept bytes (ranges relative to the piece: it starts the input); the
  // first keep_tokens are those the slot had (the reused ones), the rest are copied.
  const auto* o = offsets.data();
  const size_t n = static_cast<size_t>(
      std::upper_bound(o + keep_tokens, o + offsets.size(), keep, [](size_t at, const auto& t) { return at < t.second; }) - o);
  r.ids.resize(keep_tokens);
  r.offsets.resize(keep_tokens);
  r.ids.insert(r.ids.end(), ids.begin() + static_cast<ptrdiff_t>(keep_tokens), ids.begin() + static_cast<ptrdiff_t>(n));
  r.offsets.insert(r.offsets.end(), o + keep_tokens, o + n);
}

size_t SpmFastPath::reused_tokens() const { return per_thread<ThreadState>(uid_).recent.reused_tokens; }


void SpmFastPath::encode_word(std::string_view in, bool first, std::vector<uint32_t>& ids, Offsets& offsets,
                              uint32_t at) const {
  // The normalized word: the prepended "▁" for the piece's first word, each space a "▁".
  thread_local std::string word;
  thread_local std::vector<uint32_t> metas;  // where in word a space became "▁"
  thread_local std::vector<Token> toks;
  word.clear();
  metas.clear();
  const uint32_t pre = first ? 3 : 0;
  if (first) word += kMeta;
  for (char c : in) {
    if (c != ' ') {
      word.push_back(c);
      continue;
    }
    metas.push_back(static_cast<uint32_t>(word.size()));
    word += kMeta;
  }
  toks.clear();
  model_.tokenize_word(word, toks, /*hot=*/false);
  // A token's input range is what HF's alignments give: each byte of a char maps to the
  // char's input range, a "▁" from a space to the space, and the prepended "▁" (as HF's
  // prepend aligns it) to the piece's first char.
  const uint32_t first_len = in.empty() ? 0 : unicode::char_len(static_cast<unsigned char>(in[0]));
  size_t before = 0;  // "▁"s from spaces wholly before the current position (tokens come in order)
  auto input_at = [&](size_t q) {  // q: a char boundary of word past the prepended "▁"
    while (before < metas.size() && metas[before] < q) ++before;
    while (before > 0 && metas[before - 1] >= q) --before;
    return static_cast<uint32_t>(q - pre - 2 * before);
  };
  for (const Token& t : toks) {
    ids.push_back(t.id);
    // Widened to whole chars (byte-fallback tokens are single bytes).
    const size_t s = unicode::char_floor(word, t.start), f = unicode::char_ceil(word, t.end);
    const uint32_t from = s < pre ? 0 : input_at(s);
    const uint32_t to = f <= pre ? first_len : input_at(f);
    offsets.emplace_back(at + from, at + to);
  }
}

}  // namespace tokalign::tok
