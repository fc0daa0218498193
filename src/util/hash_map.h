// Open-addressing hash tables for the tokenizer's hot lookups: byte string -> id and
// (id, id) pair -> merge. std::unordered_map costs a node allocation per entry and a
// pointer chase per probe; these keep keys in one arena and probe linearly.
#pragma once

#include <cstdint>
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

#include "util/aligned_alloc.h"

namespace tokalign {

// Allocator for the big lookup tables: 2 MiB aligned and advised for transparent huge pages
// when large, so random probes across several MB do not also miss the TLB on every lookup.
template <class T>
struct TableAllocator {
  using value_type = T;
  TableAllocator() = default;
  template <class U>
  TableAllocator(const TableAllocator<U>&) {}
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    constexpr size_t kHuge = size_t{2} << 20;
    if (bytes >= kHuge) {
      void* p = alloc_aligned(kHuge, bytes);
      ::madvise(p, (bytes + kHuge - 1) / kHuge * kHuge, MADV_HUGEPAGE);
      return static_cast<T*>(p);
    }
    return static_cast<T*>(alloc_aligned(64, bytes));
  }
  void deallocate(T* p, size_t) { std::free(p); }
  template <class U>
  bool operator==(const TableAllocator<U>&) const { return true; }
};

template <class T>
using TableVector = std::vector<T, TableAllocator<T>>;

// Little binary images of plain data, for the compiled-tokenizer cache. The reader throws
// std::runtime_error on anything short or inconsistent; callers then rebuild from source.
class BlobWriter {
 public:
  explicit BlobWriter(std::string& out) : out_(out) {}
  void u64(uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), 8); }
  void bytes(const void* p, size_t n) {
    u64(n);
    out_.append(static_cast<const char*>(p), n);
  }
  void str(std::string_view s) { bytes(s.data(), s.size()); }
  template <class T, class A>
  void vec(const std::vector<T, A>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes(v.data(), v.size() * sizeof(T));
  }

 private:
  std::string& out_;
};

class BlobReader {
 public:
  BlobReader(const char* p, size_t n) : p_(p), end_(p + n) {}
  [[noreturn]] void fail() const { throw std::runtime_error("corrupt cache image"); }
  uint64_t u64() {
    if (end_ - p_ < 8) fail();
    uint64_t v;
    std::memcpy(&v, p_, 8);
    p_ += 8;
    return v;
  }
  std::string_view bytes() {
    uint64_t n = u64();
    if (static_cast<uint64_t>(end_ - p_) < n) fail();
    std::string_view s(p_, n);
    p_ += n;
    return s;
  }
  void str(std::string& s) { s.assign(bytes()); }
  template <class T, class A>
  void vec(std::vector<T, A>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::string_view b = bytes();
    if (b.size() % sizeof(T)) fail();
    v.resize(b.size() / sizeof(T));
    if (!b.empty()) std::memcpy(v.data(), b.data(), b.size());
  }
  bool done() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

inline uint64_t hash_bytes(std::string_view s, uint64_t seed = 0xcbf29ce484222325ull) {
  // FNV-1a over 8-byte words, then a final avalanche (wyhash-like mix).
  uint64_t h = seed ^ (s.size() * 0x9E3779B97F4A7C15ull);
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  // The last 0..7 bytes, without a variable-length memcpy call.
  uint64_t w = 0;
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    w = (static_cast<uint64_t>(hi) << 32) | lo;
  } else if (n > 0) {
    w = static_cast<uint64_t>(static_cast<unsigned char>(p[0])) |
        (static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
        (static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
  }
  h = (h ^ w) * 0x100000001b3ull;
  h ^= h >> 32;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

// Maps byte strings to uint32 values. Keys are copied into an arena; a slot is 16 bytes
// (hash tag, key offset, key length, value) so probes touch few cache lines. Callers with
// many lookups can hash, prefetch and then look up, to overlap the cache misses.
class StringIdMap {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap * 5 < n * 8) cap <<= 1;  // load factor at most 5/8
    rehash(cap);
  }
  size_t size() const { return count_; }
  void clear() {
    slots_.assign(slots_.size(), Slot{});
    arena_.clear();
    count_ = 0;
  }

  static uint64_t hash(std::string_view key) { return hash_bytes(key); }
  void prefetch(uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  }

  // Inserts or overwrites.
  void set(std::string_view key, uint32_t value) { set_hashed(key, hash(key), value); }
  void set_hashed(std::string_view key, uint64_t h, uint32_t value) {
    if ((count_ + 1) * 8 > slots_.size() * 5) rehash(slots_.empty() ? 16 : slots_.size() * 2);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.len == kEmpty) {
        s.tag = tag;
        s.off = static_cast<uint32_t>(arena_.size());
        s.len = static_cast<uint32_t>(key.size());
        s.value = value;
        arena_.append(key);
        ++count_;
        return;
      }
      if (s.tag == tag && key_at(s) == key) {
        s.value = value;
        return;
      }
    }
  }

  std::optional<uint32_t> get(std::string_view key) const { return get_hashed(key, hash(key)); }
  std::optional<uint32_t> get_hashed(std::string_view key, uint64_t h) const {
    if (slots_.empty()) return std::nullopt;
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.len == kEmpty) return std::nullopt;
      if (s.tag == tag && key_at(s) == key) return s.value;
    }
  }

  // Flat image of the table, for the compiled-tokenizer cache.
  void write_to(BlobWriter& w) const {
    w.vec(slots_);
    w.str(arena_);
    w.u64(count_);
  }
  void read_from(BlobReader& r) {
    r.vec(slots_);
    r.str(arena_);
    count_ = r.u64();
    if (!slots_.empty() && (slots_.size() & (slots_.size() - 1))) r.fail();
    // Probing ends at an empty slot: a table without one would loop forever.
    size_t used = 0;
    for (const Slot& s : slots_) used += s.len != kEmpty;
    if (used != count_ || (!slots_.empty() && used >= slots_.size())) r.fail();
    for (const Slot& s : slots_)
      if (s.len != kEmpty && (size_t(s.off) + s.len > arena_.size())) r.fail();
  }

 private:
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  struct Slot {
    uint32_t tag = 0;
    uint32_t off = 0;
    uint32_t len = kEmpty;
    uint32_t value = 0;
  };
  std::string_view key_at(const Slot& s) const { return std::string_view(arena_.data() + s.off, s.len); }
  void rehash(size_t cap) {
    TableVector<Slot> old = std::move(slots_);
    slots_.assign(cap, Slot{});
    size_t mask = cap - 1;
    for (const Slot& s : old) {
      if (s.len == kEmpty) continue;
      uint64_t h = hash(key_at(s));
      size_t i = h & mask;
      while (slots_[i].len != kEmpty) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  TableVector<Slot> slots_;
  std::string arena_;
  size_t count_ = 0;
};

// Maps a pair of uint32 ids to two uint32 values (rank, new id).
class PairMap {
 public:
  struct Value {
    uint32_t rank;
    uint32_t id;
  };
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap * 5 < n * 8) cap <<= 1;  // load factor at most 5/8
    rehash(cap);
  }
  void set(uint32_t a, uint32_t b, Value v) {
    if ((count_ + 1) * 8 > slots_.size() * 5) rehash(slots_.empty() ? 16 : slots_.size() * 2);
    uint64_t k = key(a, b);
    size_t mask = slots_.size() - 1;
    for (size_t i = mix(k) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.key == kEmpty) {
        s.key = k;
        s.v = v;
        ++count_;
        return;
      }
      if (s.key == k) {
        s.v = v;
        return;
      }
    }
  }
  void prefetch(uint32_t a, uint32_t b) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[mix(key(a, b)) & (slots_.size() - 1)]);
  }
  const Value* get(uint32_t a, uint32_t b) const {
    if (slots_.empty()) return nullptr;
    uint64_t k = key(a, b);
    size_t mask = slots_.size() - 1;
    for (size_t i = mix(k) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key == k) return &s.v;
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return count_; }

  void write_to(BlobWriter& w) const {
    w.vec(slots_);
    w.u64(count_);
  }
  void read_from(BlobReader& r) {
    r.vec(slots_);
    count_ = r.u64();
    if (!slots_.empty() && (slots_.size() & (slots_.size() - 1))) r.fail();
    size_t used = 0;
    for (const Slot& s : slots_) used += s.key != kEmpty;
    if (used != count_ || (!slots_.empty() && used >= slots_.size())) r.fail();
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  static uint64_t key(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }
  static uint64_t mix(uint64_t k) {
    k ^= k >> 31;
    k *= 0x9E3779B97F4A7C15ull;
    k ^= k >> 29;
    return k;
  }
  struct Slot {
    uint64_t key = kEmpty;
    Value v{};
  };
  void rehash(size_t cap) {
    TableVector<Slot> old = std::move(slots_);
    slots_.assign(cap, Slot{});
    size_t mask = cap - 1;
    for (const Slot& s : old) {
      if (s.key == kEmpty) continue;
      size_t i = mix(s.key) & mask;
      while (slots_[i].key != kEmpty) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  TableVector<Slot> slots_;
  size_t count_ = 0;
};

}  // namespace tokalign
