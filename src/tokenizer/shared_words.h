// The short words the encoding threads of one SentencePiece fast path have met, as
// CompactHotWords entries (ids and byte ranges, ready to copy), shared between the threads.
//
// Each thread keeps its own CompactHotWords table (hot_words.h) and starts it empty. With 16
// threads on 30,000 samples each thread sees 1/16 of them and meets nearly every word of the
// set for the first time: the words its table lacked went through the model one by one
// (SpmFastPath::encode_word: the model's per-thread cache, its shared cache under a lock, the
// offsets walk), 14% more instructions than one thread over all of them (callgrind, -j 16
// against -j 1). A word one thread has encoded is here for the others: a miss in a thread's own
// table looks here first, and copies the entry into its table on a hit.
//
// Insert-only and lock-free: a slot is claimed (empty -> being written) by one thread, which
// writes the entry and then publishes it (ready, a release store); a reader reads an entry only
// after seeing it ready (an acquire load), and a ready entry is never written again. A word
// that finds no free slot among its kProbes is not kept (the table is for the common words;
// the model still encodes the rest).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "tokenizer/hot_words.h"

namespace tokalign::tok {

class SharedCompactWords {
 public:
  // 262,144 slots of 32 bytes: 8 MiB of address space, made when a second thread joins, whose
  // pages are touched only where a word is written (LLaVA-mix text has some 28,000 distinct
  // short words in 30,000 samples), and 256 KiB of slot states.
  static constexpr unsigned kLogSlots = 18;
  static constexpr size_t kProbes = 8;

  // Counts a thread that encodes through the owner. The table is for two threads or more: the
  // second thread to join makes it (one thread alone never pays for it).
  void join();
  // The table is there (for this thread to see: an acquire load of what the maker published).
  bool in_use() const { return ready_.load(std::memory_order_acquire); }

  // Only once in_use():
  // The entry of the word CompactHotWords keys as (k0, k1) (its length and flags in k1's top
  // byte), copied to `out`; false when it is not here (or is being written).
  bool find(uint64_t k0, uint64_t k1, CompactHotWord& out) const;
  // Keeps a word's entry (its key in e.k0, e.k1); a word already here, or one without a free
  // slot among its kProbes, leaves the table as it is.
  void add(const CompactHotWord& e);

  size_t words() const;  // ready entries (for tests)

 private:
  static constexpr size_t kSlots = size_t{1} << kLogSlots;
  enum : uint8_t { kEmpty = 0, kWriting = 1, kReady = 2 };
  static size_t slot_of(uint64_t k0, uint64_t k1) {
    return static_cast<size_t>(CompactHotWords::key_hash(k0, k1) >> (64 - kLogSlots));
  }
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::atomic<size_t> threads_{0};
  std::atomic<bool> ready_{false};  // state_ and entries_ are made
  std::vector<std::atomic<uint8_t>> state_;
  std::unique_ptr<CompactHotWord, Free> entries_;  // malloc'd, not cleared: read only when ready
};

}  // namespace tokalign::tok
