// Per-thread caches for the encoder's hot path.
//
// HotWords is a small table from short words (at most 15 bytes) to their few tokens (at most
// 8, with byte ranges in the word; a number like " 1234" or a word like " Bingley’s" takes
// more than 4), one cache line an entry, sized to stay in L2: running text finds nearly every
// word there without touching the large vocabulary tables. It is two-way set-associative
// (a set is two adjacent lines; a new word replaces the way used less recently): 20,000
// LLaVA-mix samples have some 21,000 distinct short words for its 16,384 entries, and
// direct-mapped, words evicting each other missed 342k times, two-way about half as often
// (a miss costs some ten hits: the word goes through the model's cache). BpeModel
// keeps one for words as the model sees them; SpmFastPath one for words as they appear in the
// input, and it skips the model's (two tables of the same words only crowded the L2 cache).
// SpmFastPath takes CompactHotWords (below: half the bytes a word, so twice the words in the
// same memory) when the vocabulary's ids fit 16 bits.
//
// per_thread<T>(uid) is the calling thread's T for the owner `uid` (a number from new_uid(),
// so a new owner at a recycled address never sees another's entries): caches are kept per
// thread so encoding takes no lock, and a thread keeps those of its few most recently used
// owners only, so a process that creates many tokenizers (a fuzzer, a notebook) does not grow.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <emmintrin.h>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace tokalign::tok {

// Eight token ranges, each a byte start | end << 4, as eight [at + start, at + end) pairs:
// 2 * kStores of them are written (SSE2: widened and split in registers, where a loop of
// shifts and masks a token took some 47 instructions a word).
template <int kStores>
inline void expand_ranges(uint64_t packed, uint32_t at, std::pair<uint32_t, uint32_t>* out) {
  static_assert(kStores >= 1 && kStores <= 4);
  static_assert(sizeof(std::pair<uint32_t, uint32_t>) == 8);
  const __m128i zero = _mm_setzero_si128();
  const __m128i w = _mm_unpacklo_epi8(_mm_cvtsi64_si128(static_cast<long long>(packed)), zero);  // 16-bit lanes
  const __m128i s = _mm_and_si128(w, _mm_set1_epi16(15)), e = _mm_srli_epi16(w, 4);
  const __m128i lo = _mm_unpacklo_epi16(s, e), hi = _mm_unpackhi_epi16(s, e);  // s0 e0 s1 e1 ...
  const __m128i base = _mm_set1_epi32(static_cast<int>(at));
  auto* o = reinterpret_cast<__m128i*>(out);
  _mm_storeu_si128(o, _mm_add_epi32(_mm_unpacklo_epi16(lo, zero), base));
  if constexpr (kStores > 1) _mm_storeu_si128(o + 1, _mm_add_epi32(_mm_unpackhi_epi16(lo, zero), base));
  if constexpr (kStores > 2) _mm_storeu_si128(o + 2, _mm_add_epi32(_mm_unpacklo_epi16(hi, zero), base));
  if constexpr (kStores > 3) _mm_storeu_si128(o + 3, _mm_add_epi32(_mm_unpackhi_epi16(hi, zero), base));
}

// One cache line: a word of up to 15 bytes and up to 8 tokens, each token's byte range in
// the word as two 4-bit numbers.
struct alignas(64) HotWord {
  uint64_t k0 = 0, k1 = 0;  // the word, zero-padded
  uint32_t ids[8] = {};
  uint8_t ranges[8] = {};  // start | end << 4
  uint8_t tag = 0xFF;      // length | flags << 5; 0xFF: empty
  uint8_t n = 0;
  uint8_t evict_next = 0;  // in a set's first way: the way a new word replaces (the one used less recently)
  uint32_t start(size_t k) const { return ranges[k] & 15u; }
  uint32_t end(size_t k) const { return ranges[k] >> 4; }
  size_t count() const { return n; }
  uint32_t id(size_t k) const { return ids[k]; }
  void copy_ids(uint32_t* out) const { std::memcpy(out, ids, sizeof ids); }  // all eight
  // All eight tokens' ranges, offset by `at` (those past count() are whatever was stored).
  void copy_ranges(uint32_t at, std::pair<uint32_t, uint32_t>* out) const {
    uint64_t packed;
    std::memcpy(&packed, ranges, 8);
    expand_ranges<4>(packed, at, out);
  }
};
static_assert(sizeof(HotWord) == 64);

// Half a cache line, for vocabularies of at most 65,536 ids (Llama-2, Mistral, Yi): a word
// of up to 15 bytes and up to 5 tokens, ids in 16 bits, each token's range as two 4-bit
// numbers. The tag (length | flags << 5, under 0x80) is the key's byte past 15; an empty
// entry's is 0xFF, so it matches no word.
struct CompactHotWord {
  uint64_t k0 = 0, k1 = ~uint64_t{0};
  uint16_t ids[5] = {};
  uint8_t n = 0;           // tokens; bit 7, in a set's first way: the way a new word replaces
  uint8_t ranges[5] = {};  // start | end << 4
  size_t count() const { return n & 7; }
  uint32_t id(size_t k) const { return ids[k]; }
  uint32_t start(size_t k) const { return ranges[k] & 15u; }
  uint32_t end(size_t k) const { return ranges[k] >> 4; }
  // Eight ids, widened (those past count() are whatever follows).
  void copy_ids(uint32_t* out) const {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ids));
    const __m128i zero = _mm_setzero_si128();
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_unpacklo_epi16(v, zero));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4), _mm_unpackhi_epi16(v, zero));
  }
  // Six ranges, offset by `at` (those past count() are whatever follows): the entry's last
  // eight bytes end with the five range bytes.
  void copy_ranges(uint32_t at, std::pair<uint32_t, uint32_t>* out) const {
    uint64_t tail;
    std::memcpy(&tail, reinterpret_cast<const char*>(this) + 24, 8);
    expand_ranges<3>(tail >> 24, at, out);
  }
};
static_assert(sizeof(CompactHotWord) == 32);
static_assert(offsetof(CompactHotWord, ranges) == 27, "copy_ranges reads the ranges as the entry's last five bytes");

class HotWords {
 public:
  // kRoom: the ids copy_ids writes, and at least the ranges copy_ranges writes (an encoder
  // makes room for as many).
  static constexpr size_t kMaxLen = 15, kMaxTokens = 8, kRoom = 8;
  using Entry = HotWord;
  // A word's place in the table; hit() when the slot holds this word.
  // The word's slot when hit(), else the slot a store() fills (the set's less recently used way).
  struct Probe {
    HotWord* slot;
    HotWord* set;
    uint64_t k0, k1;
    uint8_t tag;
    bool found;
    bool hit() const { return found; }
  };
  // `w` has 1 to kMaxLen bytes; `flags` (< 4) keeps variants of one word apart. With
  // `readable16`, 16 bytes from w.data() may be read (the word is not near its text's end):
  // the key is then two loads and masks, without branching on the length.
  Probe probe(std::string_view w, uint8_t flags = 0, bool readable16 = false) {
    Probe p;
    load_key(w, readable16, p.k0, p.k1);
    p.tag = static_cast<uint8_t>(w.size() | flags << 5);
    // Multiply-shift: the slot is the product's top bits, which every bit of the key reaches
    // (a product's low bits see only the key's low bits: words sharing their first bytes
    // crowded into the same slots).
    const uint64_t h = (p.k0 ^ (p.k1 * 0xC2B2AE3D27D4EB4Full) ^ p.tag) * 0x9E3779B97F4A7C15ull;
    // Two ways a set, in two adjacent cache lines.
    HotWord* set = &table_[static_cast<size_t>(h >> (64 - kLogEntries)) & ~size_t{1}];
    p.set = set;
    auto same = [&](const HotWord& e) { return ((e.k0 ^ p.k0) | (e.k1 ^ p.k1) | (e.tag ^ p.tag)) == 0; };
    if (same(set[0])) {
      p.slot = &set[0];
      p.found = true;
      set[0].evict_next = 1;
    } else if (same(set[1])) {
      p.slot = &set[1];
      p.found = true;
      set[0].evict_next = 0;
    } else {
      p.slot = &set[set[0].evict_next];
      p.found = false;
    }
    return p;
  }
  // Fills the probed slot: n <= kMaxTokens tokens with byte ranges in the word.
  static void store(const Probe& p, size_t n, const uint32_t* ids, const uint8_t* start, const uint8_t* end) {
    HotWord& s = *p.slot;
    p.set[0].evict_next = static_cast<uint8_t>(p.slot == p.set ? 1 : 0);
    s.k0 = p.k0;
    s.k1 = p.k1;
    s.tag = p.tag;
    s.n = static_cast<uint8_t>(n);
    std::memset(s.ranges, 0, sizeof s.ranges);
    for (size_t k = 0; k < n; ++k) {
      s.ids[k] = ids[k];
      s.ranges[k] = static_cast<uint8_t>(start[k] | end[k] << 4);
    }
  }

  // The word as two zero-padded words. With `readable16`, from two masked 16-byte loads.
  static void load_key(std::string_view w, bool readable16, uint64_t& k0, uint64_t& k1) {
    if (readable16) load_key16(w, k0, k1);
    else load_key(w, k0, k1);
  }

 private:
  static constexpr unsigned kLogEntries = 14;  // 16,384 entries: 1 MiB (32,768 were not faster)
  static void load_key16(std::string_view w, uint64_t& k0, uint64_t& k1) {
    const size_t n = w.size();  // 1..15
    std::memcpy(&k0, w.data(), 8);
    std::memcpy(&k1, w.data() + 8, 8);
    // Keep bytes [0, n): the masks are loads from a run of 0xFF bytes then zeros, with no
    // branch on the length (which a branch predicted wrong for one word in five).
    alignas(32) static constexpr uint8_t kOnes[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    uint64_t m0, m1;
    std::memcpy(&m0, kOnes + 16 - n, 8);
    std::memcpy(&m1, kOnes + 24 - n, 8);
    k0 &= m0;
    k1 &= m1;
  }
  // The word as two zero-padded words, with overlapping loads that stay inside it (no stack
  // buffer: that stalls on store forwarding in the hottest path).
  static void load_key(std::string_view w, uint64_t& k0, uint64_t& k1) {
    const char* p = w.data();
    const size_t n = w.size();
    k0 = k1 = 0;
    if (n >= 8) {
      std::memcpy(&k0, p, 8);
      if (n > 8) {
        std::memcpy(&k1, p + n - 8, 8);
        k1 >>= 8 * (16 - n);
      }
    } else if (n >= 4) {
      uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      k0 = lo;
      if (n > 4) k0 |= static_cast<uint64_t>(hi >> (8 * (8 - n))) << 32;
    } else {
      for (size_t i = 0; i < n; ++i) k0 |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    }
  }
  std::vector<HotWord> table_ = std::vector<HotWord>(size_t{1} << kLogEntries);
};

// HotWords in half the memory a word, for vocabularies of at most 65,536 ids: a set's two
// ways share one cache line, and the 2 MiB table holds 65,536 words (LLaVA-mix text has more
// distinct short words than HotWords' 16,384 entries: most of its misses were words evicting
// each other). Words of more than 5 tokens are not kept (0.05% of hits on that text).
class CompactHotWords {
 public:
  static constexpr size_t kMaxLen = 15, kMaxTokens = 5, kRoom = 8;
  using Entry = CompactHotWord;
  struct alignas(64) Set {
    CompactHotWord way[2];
  };
  struct Probe {
    CompactHotWord* slot;  // the word's entry when found, else the one store() fills
    Set* set;
    uint64_t k0, k1;       // k1 with the tag in its top byte
    bool found;
    bool hit() const { return found; }
  };
  Probe probe(std::string_view w, uint8_t flags = 0, bool readable16 = false) {
    Probe p;
    HotWords::load_key(w, readable16, p.k0, p.k1);
    p.k1 |= static_cast<uint64_t>(w.size() | flags << 5) << 56;
    Set* set = &table_[static_cast<size_t>(key_hash(p.k0, p.k1) >> (64 - kLogSets))];
    p.set = set;
    CompactHotWord* w0 = &set->way[0];
    CompactHotWord* w1 = &set->way[1];
    if (((w0->k0 ^ p.k0) | (w0->k1 ^ p.k1)) == 0) {
      p.slot = w0;
      p.found = true;
      w0->n |= 0x80;  // way 1 goes next
    } else if (((w1->k0 ^ p.k0) | (w1->k1 ^ p.k1)) == 0) {
      p.slot = w1;
      p.found = true;
      w0->n &= 0x7F;
    } else {
      p.slot = (w0->n & 0x80) ? w1 : w0;
      p.found = false;
    }
    return p;
  }
  // A word's key (as a probe has it) hashed: a table takes its top bits (see HotWords::probe).
  static uint64_t key_hash(uint64_t k0, uint64_t k1) { return (k0 ^ (k1 * 0xC2B2AE3D27D4EB4Full)) * 0x9E3779B97F4A7C15ull; }
  // Fills the probed slot: n <= kMaxTokens tokens with ranges in the word; a word with an id
  // of 65,536 or more is not kept.
  static void store(const Probe& p, size_t n, const uint32_t* ids, const uint8_t* start, const uint8_t* end) {
    for (size_t k = 0; k < n; ++k)
      if (ids[k] > 0xFFFF) return;
    CompactHotWord& s = *p.slot;
    s.k0 = p.k0;
    s.k1 = p.k1;
    for (size_t k = 0; k < n; ++k) {
      s.ids[k] = static_cast<uint16_t>(ids[k]);
      s.ranges[k] = static_cast<uint8_t>(start[k] | end[k] << 4);
    }
    s.n = static_cast<uint8_t>(n);
    filled(p);
  }
  // Fills the probed slot with a copy of another table's entry for the same word.
  static void store_entry(const Probe& p, const CompactHotWord& e) {
    *p.slot = e;
    p.slot->n = static_cast<uint8_t>(e.n & 0x7F);
    filled(p);
  }

 private:
  // After the probed slot is filled: the set's other way goes next (bit 7 of way 0's n).
  static void filled(const Probe& p) {
    CompactHotWord& w0 = p.set->way[0];
    w0.n = static_cast<uint8_t>((w0.n & 0x7F) | (p.slot == &w0 ? 0x80 : 0));
  }
  // 32,768 sets of two: 2 MiB. Against 1 MiB: 30,000 LLaVA-mix samples missed 83k times a
  // pass instead of 149k (25k of them words over 15 bytes), and a pass took 3-8% less.
  static constexpr unsigned kLogSets = 15;
  std::vector<Set> table_ = std::vector<Set>(size_t{1} << kLogSets);
};

inline uint64_t new_uid() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

template <class T>
T& per_thread(uint64_t uid) {
  constexpr size_t kPerThread = 4;
  struct Slot {
    uint64_t uid = 0;
    uint64_t last_use = 0;
    std::unique_ptr<T> value;
  };
  thread_local Slot slots[kPerThread];
  thread_local uint64_t clock = 0;
  thread_local Slot* last = nullptr;
  if (last && last->uid == uid) return *last->value;
  Slot* victim = &slots[0];
  for (Slot& s : slots) {
    if (s.value && s.uid == uid) {
      s.last_use = ++clock;
      last = &s;
      return *s.value;
    }
    if (!s.value || s.last_use < victim->last_use) victim = &s;
    if (!victim->value) break;
  }
  victim->uid = uid;
  victim->last_use = ++clock;
  victim->value = std::make_unique<T>();
  last = victim;
  return *victim->value;
}

}  // namespace tokalign::tok
