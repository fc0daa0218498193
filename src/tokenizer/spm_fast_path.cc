#include "tokenizer/spm_fast_path.h"

#include <algorithm>
#include <cstring>

#include "tokenizer/hot_words.h"
#include "tokenizer/pattern.h"
#include "unicode/utf8.h"

namespace tokalign::tok {

namespace {

constexpr std::string_view kMeta = "\xE2\x96\x81";  // U+2581

}  // namespace

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

SpmFastPath::SpmFastPath(const BpeModel& m, Prepend prepend) : model_(m), prepend_(prepend), uid_(new_uid()) {}

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

// Appends to a vector through a raw pointer: the vector is grown ahead (value-initialized)
// and cut back to what was written when done, so a word's tokens are plain stores, with one
// room check per word instead of a capacity check per token.
template <class T>
class Tail {
 public:
  Tail(std::vector<T>& v, size_t expect) : v_(v) {
    const size_t n = v_.size();
    v_.resize(n + expect);
    set(n);
  }
  ~Tail() { v_.resize(static_cast<size_t>(pos - v_.data())); }
  Tail(const Tail&) = delete;
  Tail& operator=(const Tail&) = delete;
  // Room for k more elements past pos.
  void room(size_t k) {
    if (static_cast<size_t>(end_ - pos) < k) grow(k);
  }
  T* pos;

 private:
  [[gnu::noinline]] void grow(size_t k) {
    const size_t n = static_cast<size_t>(pos - v_.data());
    v_.resize(std::max(2 * v_.size(), n + k));
    set(n);
  }
  void set(size_t n) {
    pos = v_.data() + n;
    end_ = v_.data() + v_.size();
  }
  std::vector<T>& v_;
  T* end_;
};

}  // namespace

void SpmFastPath::encode(std::string_view p, size_t shift, std::vector<uint32_t>& ids, Offsets* offsets) const {
  if (p.empty()) return;  // Prepend leaves an empty piece empty
  HotWords& hot = per_thread<HotWords>(uid_);
  thread_local Offsets unwanted;  // offsets nobody asked for (the table keeps them)
  unwanted.clear();
  const bool prepend = prepends(p, shift);
  // About one token per 3.5 bytes of running text; more is grown as needed.
  const size_t expect = p.size() / 2 + HotWords::kMaxTokens;
  Tail<uint32_t> id_out(ids, expect);
  Tail<std::pair<uint32_t, uint32_t>> off_out(offsets ? *offsets : unwanted, expect);

  // Each word's tokens, with byte ranges in the word's input: from the per-thread table of
  // short input words (flag 1: the piece's first word when it gets the prepended "▁"), else
  // through the model (out of line, so that the table's hits stay in this loop).
  const char* const text = p.data();
  auto miss = [&](std::string_view in, bool first, uint32_t at, const HotWords::Probe& probe) __attribute__((noinline)) {
    thread_local std::vector<uint32_t> word_ids;
    thread_local Offsets word_offs;
    word_ids.clear();
    word_offs.clear();
    encode_word(in, first, word_ids, word_offs, at);
    const size_t n = word_ids.size();
    id_out.room(n);
    off_out.room(n);
    std::memcpy(id_out.pos, word_ids.data(), n * sizeof(uint32_t));
    std::memcpy(static_cast<void*>(off_out.pos), word_offs.data(), n * sizeof(word_offs[0]));
    id_out.pos += n;
    off_out.pos += n;
    if (!probe.slot || n > HotWords::kMaxTokens) return;
    uint8_t start[HotWords::kMaxTokens], end[HotWords::kMaxTokens];
    for (size_t k = 0; k < n; ++k) {
      start[k] = static_cast<uint8_t>(word_offs[k].first - at);
      end[k] = static_cast<uint8_t>(word_offs[k].second - at);
    }
    HotWords::store(probe, n, word_ids.data(), start, end);
  };
  auto word = [&](size_t a, size_t b) __attribute__((always_inline)) {
    const uint32_t at = static_cast<uint32_t>(shift + a);
    const std::string_view in(text + a, b - a);
    const bool first = a == 0 && prepend;
    if (in.size() > HotWords::kMaxLen) return miss(in, first, at, HotWords::Probe{});
    const HotWords::Probe probe = hot.probe(in, first, a + 16 <= p.size());
    if (!probe.hit()) return miss(in, first, at, probe);
    const HotWord& h = *probe.slot;
    const size_t n = h.n;
    id_out.room(HotWords::kMaxTokens);
    off_out.room(HotWords::kMaxTokens);
    std::memcpy(id_out.pos, h.ids, sizeof h.ids);  // all eight: there is room
    for (size_t k = 0; k < n; ++k) off_out.pos[k] = {at + h.start(k), at + h.end(k)};
    id_out.pos += n;
    off_out.pos += n;
  };

  // The words, each encoded as its end is found: the piece is cut before each space whose
  // preceding char (in the normalized text: "▁" for a space or the prepended one) allows it.
  size_t word_start = 0;
  auto at_space = [&](size_t i) {
    if (i == 0) return;
    char32_t prev = static_cast<unsigned char>(text[i - 1]);
    if (prev == ' ') prev = U'\u2581';
    else if (prev >= 0x80) prev = unicode::char_before(p, i);
    if (!model_.spm_cut_after(prev)) return;
    word(word_start, i);
    word_start = i;
  };
  // Spaces eight bytes at a time: a byte of x is zero where p has a space.
  const size_t size = p.size();
  size_t i = 0;
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
