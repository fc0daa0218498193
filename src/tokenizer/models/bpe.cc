#include "tokenizer/models/bpe.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <cstdio>
#include <memory>
#include <mutex>
#include <queue>

#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/hot_words.h"
#include "unicode/utf8.h"
#include "util/error.h"

namespace tokalign::tok {

namespace {

// Words shorter than this are cached, as in HF (utils/cache.rs MAX_LENGTH).
constexpr size_t kCacheMaxWordLen = 256;
constexpr size_t kCacheMaxWords = 1 << 17;
// Below this many symbols a linear scan beats the heap.
constexpr size_t kScanMaxSymbols = 256;

// Words and their tokens (contiguous from 0), as [n, id0, end0, id1, end1, ...] in one vector;
// it starts over when it holds `max_words`.
class WordStore {
 public:
  explicit WordStore(size_t max_words = kCacheMaxWords) : max_words_(max_words) {}
  // Appends the word's tokens to `out`; false when it is not here.
  bool get(std::string_view word, std::vector<Token>& out) const {
    const auto off = index_.get(word);
    if (!off) return false;
    const uint32_t* p = store_.data() + *off;
    uint32_t start = 0;
    for (uint32_t k = 0; k < p[0]; ++k) {
      const uint32_t end = p[2 + 2 * k];
      out.push_back({p[1 + 2 * k], start, end});
      start = end;
    }
    return true;
  }
  void put(std::string_view word, const Token* toks, size_t n) {
    if (index_.size() >= max_words_ || store_.size() >= max_words_ * 8) {
      index_.clear();
      store_.clear();
    }
    index_.set(word, static_cast<uint32_t>(store_.size()));
    store_.push_back(static_cast<uint32_t>(n));
    for (size_t k = 0; k < n; ++k) {
      store_.push_back(toks[k].id);
      store_.push_back(toks[k].end);
    }
  }

 private:
  size_t max_words_;
  StringIdMap index_;
  std::vector<uint32_t> store_;
};

}  // namespace

// The words any thread of this model merged, so that each thread does not merge the same words
// again on first sight (with 16 threads on 30,000 samples, every word was merged up to 16
// times). Threads look here only for words their own cache lacks; sharded so that they seldom
// wait on one another.
class BpeModel::SharedWords {
 public:
  // Threads that have used the model (a thread counts again if its cache was dropped and
  // made anew): with one, there is no one to share with.
  std::atomic<size_t> threads{0};
  bool get(std::string_view word, std::vector<Token>& out) {
    Shard& s = shard(word);
    std::lock_guard<std::mutex> lock(s.mu);
    return s.words.get(word, out);
  }
  void put(std::string_view word, const Token* toks, size_t n) {
    Shard& s = shard(word);
    std::lock_guard<std::mutex> lock(s.mu);
    s.words.put(word, toks, n);
  }

 private:
  static constexpr size_t kShards = 64;
  struct Shard {
    std::mutex mu;
    WordStore words{2 * kCacheMaxWords / kShards};  // twice what one thread keeps, in all
  };
  Shard& shard(std::string_view word) { return shards_[StringIdMap::hash(word) >> 58]; }
  std::array<Shard, kShards> shards_;
};

namespace {

// Per-thread word cache of one model: word -> tokens, with a HotWords table in front.
struct WordCache {
  std::unique_ptr<HotWords> hot;  // made on first use (the SentencePiece fast path never uses it)
  WordStore words;
  bool counted = false;  // in SharedWords::threads
};

}  // namespace

BpeModel::BpeModel()
    : fuse_unk_(false),
      byte_fallback_(false),
      ignore_merges_(false),
      byte_level_(false),
      uid_(new_uid()),
      shared_(std::make_shared<SharedWords>()) {}

BpeModel::BpeModel(BpeConfig cfg)
    : prefix_(std::move(cfg.continuing_subword_prefix)),
      suffix_(std::move(cfg.end_of_word_suffix)),
      fuse_unk_(cfg.fuse_unk),
      byte_fallback_(cfg.byte_fallback),
      ignore_merges_(cfg.ignore_merges),
      byte_level_(cfg.byte_level),
      uid_(new_uid()),
      shared_(std::make_shared<SharedWords>()) {
  if (byte_level_ && (!prefix_.empty() || !suffix_.empty() || byte_fallback_))
    byte_level_ = false;  // raw-byte storage only holds for the plain GPT-2 setup
  if (byte_level_) {
    // ... and for a vocab holding all 256 byte symbols: otherwise a char can lose some of
    // its bytes, and HF's offsets then follow the byte-level string, not the chars.
    std::array<bool, 256> have{};
    for (const auto& [tok, id] : cfg.vocab) {
      std::string raw1;
      if (tok.size() <= 2 && ByteLevelAlphabet::get().decode(tok, raw1) && raw1.size() == 1)
        have[static_cast<unsigned char>(raw1[0])] = true;
    }
    for (bool h : have) byte_level_ = byte_level_ && h;
  }
  const auto& alpha = ByteLevelAlphabet::get();
  uint32_t max_id = 0;
  size_t text_bytes = 0;
  for (const auto& [tok, id] : cfg.vocab) {
    max_id = std::max(max_id, id);
    text_bytes += tok.size();
  }
  // id -> token text: ids without a token keep an empty range.
  std::vector<std::string_view> by_id(cfg.vocab.empty() ? 0 : size_t(max_id) + 1);
  vocab_.reserve(cfg.vocab.size());
  std::string raw;
  std::vector<char> rawbuf;
  for (const auto& [tok, id] : cfg.vocab) {
    if (byte_level_) {
      if (rawbuf.size() < tok.size()) rawbuf.resize(tok.size() * 2);
      size_t n = alpha.decode_to(tok, rawbuf.data());
      if (n != SIZE_MAX) vocab_.set(std::string_view(rawbuf.data(), n), id);
      else literal_extra_.set(tok, id);
    } else {
      vocab_.set(tok, id);
    }
    by_id[id] = tok;
  }
  token_text_.reserve(text_bytes);
  token_offset_.reserve(by_id.size() + 1);
  for (std::string_view t : by_id) {
    token_offset_.push_back(static_cast<uint32_t>(token_text_.size()));
    token_text_.append(t);
  }
  token_offset_.push_back(static_cast<uint32_t>(token_text_.size()));

  auto lookup_literal = [&](std::string_view s, std::string& buf) -> std::optional<uint32_t> {
    if (byte_level_) {
      if (alpha.decode(s, buf)) return vocab_.get(buf);
      return literal_extra_.get(s);
    }
    return vocab_.get(s);
  };
  auto merge_error = [&](size_t i, std::string_view what, std::string_view tok) {
    const auto& [a, b] = cfg.merges[i];
    throw Error("merges[" + std::to_string(i) + "] \"" + std::string(a) + " " + std::string(b) + "\": " +
                std::string(what) + " \"" + std::string(tok) + "\" is not in the vocab");
  };

  merges_.reserve(cfg.merges.size());
  auto add_merge_slow = [&](size_t i) {
    const auto& [a, b] = cfg.merges[i];
    std::string ra, merged;
    auto a_id = lookup_literal(a, ra);
    if (!a_id) merge_error(i, "token", a);
    auto b_id = lookup_literal(b, ra);
    if (!b_id) merge_error(i, "token", b);
    if (b.size() < prefix_.size())
      throw Error("merges[" + std::to_string(i) + "]: token \"" + std::string(b) +
                  "\" is shorter than the continuing_subword_prefix");
    merged.assign(a);
    merged.append(b.substr(prefix_.size()));
    auto new_id = lookup_literal(merged, ra);
    if (!new_id) merge_error(i, "merged token", merged);
    merges_.set(*a_id, *b_id, {static_cast<uint32_t>(i), *new_id});
  };
  if (!byte_level_) {
    for (size_t i = 0; i < cfg.merges.size(); ++i) add_merge_slow(i);
  } else {
    // Byte-level files have hundreds of thousands of merges, each three lookups in a table
    // far larger than the cache: work in batches, hashing and prefetching every lookup of
    // a batch before doing any of them. raw(a + b) == raw(a) + raw(b), so the merged token
    // needs no decoding.
    constexpr size_t kBatch = 64;
    struct Item {
      uint32_t a_off, a_len, b_off, b_len;
      uint64_t ha, hb, hm;
      bool ok;
      uint32_t a_id, b_id, m_id;
    };
    Item items[kBatch];
    std::vector<char> scratch;
    for (size_t base = 0; base < cfg.merges.size(); base += kBatch) {
      const size_t n = std::min(kBatch, cfg.merges.size() - base);
      size_t need = 0;
      for (size_t k = 0; k < n; ++k) need += cfg.merges[base + k].first.size() + cfg.merges[base + k].second.size();
      if (scratch.size() < need) scratch.resize(need * 2);
      size_t used = 0;
      for (size_t k = 0; k < n; ++k) {
        const auto& [a, b] = cfg.merges[base + k];
        Item& it = items[k];
        it.a_off = static_cast<uint32_t>(used);
        size_t la = alpha.decode_to(a, scratch.data() + used);
        size_t lb = la == SIZE_MAX ? SIZE_MAX : alpha.decode_to(b, scratch.data() + used + la);
        it.ok = lb != SIZE_MAX;
        if (!it.ok) continue;
        it.a_len = static_cast<uint32_t>(la);
        it.b_off = static_cast<uint32_t>(used + la);
        it.b_len = static_cast<uint32_t>(lb);
        used += la + lb;
        std::string_view sv(scratch.data(), used);
        it.ha = StringIdMap::hash(sv.substr(it.a_off, it.a_len));
        it.hb = StringIdMap::hash(sv.substr(it.b_off, it.b_len));
        // a and b are adjacent in scratch: together they are the merged token.
        it.hm = StringIdMap::hash(sv.substr(it.a_off, it.a_len + it.b_len));
        vocab_.prefetch(it.ha);
        vocab_.prefetch(it.hb);
        vocab_.prefetch(it.hm);
      }
      for (size_t k = 0; k < n; ++k) {
        Item& it = items[k];
        if (!it.ok) continue;
        std::string_view sv(scratch.data(), scratch.size());
        auto a_id = vocab_.get_hashed(sv.substr(it.a_off, it.a_len), it.ha);
        auto b_id = vocab_.get_hashed(sv.substr(it.b_off, it.b_len), it.hb);
        auto m_id = vocab_.get_hashed(sv.substr(it.a_off, it.a_len + it.b_len), it.hm);
        if (!a_id || !b_id || !m_id) {
          it.ok = false;  // the slow path reports the error (or finds a literal-only token)
          continue;
        }
        it.a_id = *a_id;
        it.b_id = *b_id;
        it.m_id = *m_id;
        merges_.prefetch(it.a_id, it.b_id);
      }
      // In order, so a duplicate merge keeps the last rank, as HF's map does.
      for (size_t k = 0; k < n; ++k) {
        const Item& it = items[k];
        if (it.ok) merges_.set(it.a_id, it.b_id, {static_cast<uint32_t>(base + k), it.m_id});
        else add_merge_slow(base + k);
      }
    }
  }

  // Where can a long SentencePiece "word" (a whole sentence: these files have no
  // pre-tokenizer) be cut into independent pieces? BPE on pieces no merge can join gives
  // the same tokens as on the whole (HF tokenizers PR #2256 makes the same observation).
  if (!byte_level_ && !ignore_merges_ && prefix_.empty() && suffix_.empty() && vocab_.get("\u2581")) {
    spm_cuts_ = true;
    for (const auto& [tok, id] : cfg.vocab) {
      for (size_t i = 0; i < tok.size();) {
        size_t at = i;
        char32_t c = unicode::decode(tok, i);
        if (c == U'\u2581' && at > 0) {
          size_t k = at - 1;
          while (k > 0 && unicode::is_continuation(static_cast<unsigned char>(tok[k]))) --k;
          char32_t prev = unicode::decode(tok, k);
          if (std::find(cut_blockers_.begin(), cut_blockers_.end(), prev) == cut_blockers_.end())
            cut_blockers_.push_back(prev);
        }
      }
    }
    if (cut_blockers_.size() > 32) spm_cuts_ = false;  // not worth it
  }

  fill_lookup_tables();

  if (cfg.unk_token) {
    unk_id_ = lookup_literal(*cfg.unk_token, raw);
    if (!unk_id_) throw Error("unk_token \"" + *cfg.unk_token + "\" is not in the vocab");
  }
  fallback_ids_.assign(256, -1);
  if (byte_fallback_) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      if (auto id = vocab_.get(name)) fallback_ids_[b] = static_cast<int32_t>(*id);
    }
  }
  if (byte_level_) {
    byte_ids_.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
      char c = static_cast<char>(b);
      if (auto id = vocab_.get(std::string_view(&c, 1))) byte_ids_[b] = static_cast<int32_t>(*id);
    }
  }
}

BpeModel::~BpeModel() = default;

void BpeModel::fill_lookup_tables() {
  for (char32_t c = 0; c < 128; ++c)
    cut_after_ascii_[c] = spm_cuts_ && !blocks_cut(c);
  for (int c = 0; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    const std::optional<uint32_t> id = vocab_.get(std::string_view(&ch, 1));
    ascii_ids_[c] = id ? static_cast<int64_t>(*id) : -1;
  }
  const std::optional<uint32_t> meta = vocab_.get("\xE2\x96\x81");
  meta_id_ = meta ? static_cast<int64_t>(*meta) : -1;
}

std::optional<uint32_t> BpeModel::token_to_id(std::string_view token) const {
  if (byte_level_) {
    std::string raw;
    if (ByteLevelAlphabet::get().decode(token, raw)) return vocab_.get(raw);
    return literal_extra_.get(token);
  }
  return vocab_.get(token);
}

std::optional<std::string_view> BpeModel::id_to_token(uint32_t id) const {
  if (size_t(id) + 1 >= token_offset_.size()) return std::nullopt;
  // Ids missing from a sparse vocab have an empty range; HF has no token for them.
  if (token_offset_[id] == token_offset_[id + 1]) return std::nullopt;
  return std::string_view(token_text_).substr(token_offset_[id], token_offset_[id + 1] - token_offset_[id]);
}

void BpeModel::initial_symbols(std::string_view w, std::vector<Symbol>& syms) const {
  syms.clear();
  uint32_t pos = 0;
  auto add = [&](uint32_t id, uint32_t len) {
    syms.push_back({id, pos, len});
    pos += len;
  };
  bool have_unk = false;
  uint32_t unk_len = 0;
  auto unknown = [&](uint32_t len) {
    if (!unk_id_) return;  // no unk token: HF silently drops the char
    if (have_unk && fuse_unk_) {
      unk_len += len;
    } else {
      if (have_unk) add(*unk_id_, unk_len);
      have_unk = true;
      unk_len = len;
    }
  };
  auto flush_unk = [&] {
    if (have_unk) add(*unk_id_, unk_len);
    have_unk = false;
  };

  if (byte_level_) {
    for (unsigned char b : w) {
      int32_t id = byte_ids_[b];
      if (id >= 0) {
        flush_unk();
        add(static_cast<uint32_t>(id), 1);
      } else {
        unknown(1);
      }
    }
    flush_unk();
    return;
  }

  std::string key;
  for (size_t i = 0; i < w.size();) {
    size_t n = unicode::char_len(static_cast<unsigned char>(w[i]));
    const bool first = i == 0, last = i + n >= w.size();
    std::string_view s = w.substr(i, n);
    std::optional<uint32_t> id;
    std::string_view k = s;
    if ((!first && !prefix_.empty()) || (last && !suffix_.empty())) {
      key.clear();
      if (!first) key += prefix_;
      key += s;
      if (last) key += suffix_;
      k = key;
    }
    // A char on its own (no affix): ASCII and U+2581 from tables, the rest from the vocab.
    if (k.data() == s.data() && n == 1 && static_cast<unsigned char>(s[0]) < 0x80) {
      const int64_t a = ascii_ids_[static_cast<unsigned char>(s[0])];
      id = a >= 0 ? std::optional<uint32_t>(static_cast<uint32_t>(a)) : std::nullopt;
    } else if (k.data() == s.data() && n == 3 && s == "\xE2\x96\x81") {
      id = meta_id_ >= 0 ? std::optional<uint32_t>(static_cast<uint32_t>(meta_id_)) : std::nullopt;
    } else {
      id = vocab_.get(k);
    }
    i += n;
    if (id) {
      flush_unk();
      add(*id, static_cast<uint32_t>(n));
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char b : k) all = all && fallback_ids_[b] >= 0;
      if (all) {
        // HF adds the byte tokens without flushing a pending unk.
        for (unsigned char b : k) add(static_cast<uint32_t>(fallback_ids_[b]), 1);
        continue;
      }
    }
    unknown(static_cast<uint32_t>(n));
  }
  flush_unk();
}

namespace {

constexpr size_t kShift = 4;

// a[i] = a[i + 1] for i in [from, to), kShift at a time in one direction (loads run ahead of
// stores), so it may also write up to a[to + kShift - 2] and read a[to + kShift - 1]. Words
// are short: a merge moves a few entries, where four memmove calls cost more than the move.
inline void shift_left(uint32_t* a, size_t from, size_t to) {
  for (size_t i = from; i < to; i += kShift) {
    uint32_t v[kShift];
    std::memcpy(v, a + i + 1, sizeof v);
    std::memcpy(a + i, v, sizeof v);
  }
}

}  // namespace

void BpeModel::merge_symbols_scan(std::vector<Symbol>& s) const {
  // Repeatedly merge the lowest-ranked pair, leftmost first: the order HF's heap yields.
  // Ranks and symbols live in flat arrays: finding the minimum and closing the gap after a
  // merge are short vectorizable loops, cheaper than a heap for words of a few hundred
  // symbols.
  const size_t n0 = s.size();
  if (n0 < 2) return;
  // kShift more than the most symbols: shift_left moves whole groups of kShift.
  uint32_t id[kScanMaxSymbols + kShift], len[kScanMaxSymbols + kShift], rank[kScanMaxSymbols + kShift],
      nid[kScanMaxSymbols + kShift];
  for (size_t i = 0; i < n0; ++i) {
    id[i] = s[i].id;
    len[i] = s[i].len;
  }
  auto look = [&](size_t i) {
    const PairMap::Value* v = merges_.get(id[i], id[i + 1]);
    rank[i] = v ? v->rank : UINT32_MAX;
    nid[i] = v ? v->id : 0;
  };
  // Issue every initial lookup's cache miss before waiting on any of them.
  for (size_t i = 0; i + 1 < n0; ++i) merges_.prefetch(id[i], id[i + 1]);
  for (size_t i = 0; i + 1 < n0; ++i) look(i);
  size_t n = n0;
  while (n > 1) {
    const size_t pairs = n - 1;
    uint32_t br = UINT32_MAX;
    size_t best = 0;
    if (pairs <= 32) {
      // A word's few pairs: the first lowest rank in one pass, with conditional moves (two
      // loops, a minimum then a search, ended at two branches predicted wrong).
      br = rank[0];
      for (size_t i = 1; i < pairs; ++i) {
        const bool lower = rank[i] < br;
        br = lower ? rank[i] : br;
        best = lower ? i : best;
      }
      if (br == UINT32_MAX) break;
    } else {
      for (size_t i = 0; i < pairs; ++i) br = std::min(br, rank[i]);
      if (br == UINT32_MAX) break;
      while (rank[best] != br) ++best;
    }
    id[best] = nid[best];
    len[best] += len[best + 1];
    // Close the gap: entries past best + 1 move one left (rank and nid past n - 2 are unused).
    for (uint32_t* a : {id, len, rank, nid}) shift_left(a, best + 1, n - 1);
    --n;
    if (best + 1 < n) merges_.prefetch(id[best], id[best + 1]);
    if (best > 0) merges_.prefetch(id[best - 1], id[best]);
    if (best + 1 < n) look(best);
    if (best > 0) look(best - 1);
  }
  uint32_t start = s[0].start;
  for (size_t i = 0; i < n; ++i) {
    s[i] = {id[i], start, len[i]};
    start += len[i];
  }
  s.resize(n);
}

void BpeModel::merge_symbols_heap(std::vector<Symbol>& s) const {
  // Port of HF Word::merge_all: a min-heap of (rank, pos) over a linked list of symbols,
  // stale entries skipped when the pair they name no longer exists.
  const size_t n = s.size();
  if (n < 2) return;
  std::vector<int64_t> prev(n), next(n);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int64_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int64_t>(i + 1) : -1;
  }
  // An entry remembers its pair; a popped entry whose pair is no longer at its position is
  // stale (HF checks that the pair there still yields new_id: the same thing, since two
  // different pairs starting at one position never spell the same token).
  struct Entry {
    uint32_t rank;
    uint32_t pos;
    uint32_t new_id;
    uint32_t a, b;
    bool operator>(const Entry& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> q;
  for (size_t i = 0; i + 1 < n; ++i) merges_.prefetch(s[i].id, s[i + 1].id);
  for (size_t i = 0; i + 1 < n; ++i)
    if (const PairMap::Value* v = merges_.get(s[i].id, s[i + 1].id))
      q.push({v->rank, static_cast<uint32_t>(i), v->id, s[i].id, s[i + 1].id});
  while (!q.empty()) {
    Entry top = q.top();
    q.pop();
    if (s[top.pos].len == 0 || next[top.pos] == -1) continue;
    const size_t np = static_cast<size_t>(next[top.pos]);
    if (s[top.pos].id != top.a || s[np].id != top.b) continue;
    s[top.pos].id = top.new_id;
    s[top.pos].len += s[np].len;
    s[np].len = 0;
    next[top.pos] = next[np];
    if (next[np] >= 0) prev[static_cast<size_t>(next[np])] = top.pos;
    if (prev[top.pos] >= 0) {
      size_t p = static_cast<size_t>(prev[top.pos]);
      if (const PairMap::Value* pv = merges_.get(s[p].id, s[top.pos].id))
        q.push({pv->rank, static_cast<uint32_t>(p), pv->id, s[p].id, s[top.pos].id});
    }
    if (next[top.pos] >= 0) {
      size_t nx = static_cast<size_t>(next[top.pos]);
      if (const PairMap::Value* nv = merges_.get(s[top.pos].id, s[nx].id))
        q.push({nv->rank, top.pos, nv->id, s[top.pos].id, s[nx].id});
    }
  }
  size_t k = 0;
  for (size_t i = 0; i < n; ++i)
    if (s[i].len != 0) s[k++] = s[i];
  s.resize(k);
}

void BpeModel::merge_word(std::string_view word, std::vector<Token>& out) const {
  thread_local std::vector<Symbol> syms;
  initial_symbols(word, syms);
  if (syms.size() <= kScanMaxSymbols) merge_symbols_scan(syms);
  else merge_symbols_heap(syms);
  for (const Symbol& sy : syms) out.push_back({sy.id, sy.start, sy.start + sy.len});
}

void BpeModel::tokenize(std::string_view word, std::vector<Token>& out) const {
  if (word.empty()) return;
  if (spm_cuts_ && word.size() > 16) {
    // Cut before each U+2581 (E2 96 81) that no token can span; each piece is a word.
    auto piece = [&](size_t from, size_t to) {
      const size_t first = out.size();
      tokenize_word(word.substr(from, to - from), out);
      for (size_t t = first; t < out.size(); ++t) {
        out[t].start += static_cast<uint32_t>(from);
        out[t].end += static_cast<uint32_t>(from);
      }
    };
    size_t seg = 0;
    size_t i = 1;
    while (i + 3 <= word.size()) {
      const void* hit = std::memchr(word.data() + i, 0xE2, word.size() - i - 2);
      if (!hit) break;
      size_t at = static_cast<const char*>(hit) - word.data();
      i = at + 1;
      if (word[at + 1] != '\x96' || word[at + 2] != '\x81') continue;
      if (!spm_cut_after(unicode::char_before(word, at))) continue;
      piece(seg, at);
      seg = at;
      i = at + 3;
    }
    if (seg > 0) {
      piece(seg, word.size());
      return;
    }
  }
  tokenize_word(word, out);
}

void BpeModel::tokenize_word(std::string_view word, std::vector<Token>& out, bool use_hot) const {
  WordCache& cache = per_thread<WordCache>(uid_);
  HotWords::Probe hot{};
  const bool short_word = use_hot && word.size() <= HotWords::kMaxLen;
  if (short_word) {
    if (!cache.hot) cache.hot = std::make_unique<HotWords>();
    hot = cache.hot->probe(word);
    if (hot.hit()) {
      const HotWord& h = *hot.slot;
      for (uint8_t k = 0; k < h.n; ++k) out.push_back({h.ids[k], h.start(k), h.end(k)});
      return;
    }
  }
  const size_t first = out.size();
  auto remember_hot = [&] {
    const size_t n = out.size() - first;
    if (!short_word || n > HotWords::kMaxTokens) return;
    uint32_t ids[HotWords::kMaxTokens];
    uint8_t start[HotWords::kMaxTokens], end[HotWords::kMaxTokens];
    for (size_t k = 0; k < n; ++k) {
      ids[k] = out[first + k].id;
      start[k] = static_cast<uint8_t>(out[first + k].start);
      end[k] = static_cast<uint8_t>(out[first + k].end);
    }
    HotWords::store(hot, n, ids, start, end);
  };
  if (ignore_merges_) {
    if (auto id = vocab_.get(word)) {
      out.push_back({*id, 0, static_cast<uint32_t>(word.size())});
      remember_hot();
      return;
    }
  }
  if (word.size() >= kCacheMaxWordLen) {
    merge_word(word, out);
    return;
  }
  if (cache.words.get(word, out)) {
    remember_hot();
    return;
  }
  if (!cache.counted) {
    cache.counted = true;
    shared_->threads.fetch_add(1, std::memory_order_relaxed);
  }
  const bool share = shared_->threads.load(std::memory_order_relaxed) > 1;
  if (share && shared_->get(word, out)) {
    cache.words.put(word, out.data() + first, out.size() - first);
    remember_hot();
    return;
  }
  merge_word(word, out);
  remember_hot();
  // Tokens of a cached word are contiguous from 0 (they always are, except after a byte
  // fallback under a continuing-subword prefix; such words are not cached).
  uint32_t expect = 0;
  for (size_t k = first; k < out.size(); ++k) {
    if (out[k].start != expect) return;
    expect = out[k].end;
  }
  cache.words.put(word, out.data() + first, out.size() - first);
  if (share) shared_->put(word, out.data() + first, out.size() - first);
}

}  // namespace tokalign::tok
