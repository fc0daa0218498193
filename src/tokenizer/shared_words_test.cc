// SharedCompactWords: what one thread adds, the others find whole (never a half-written
// entry, never another word's), with threads adding and finding at once; a full table keeps
// what it has. (Tokenizer.ThreadsSharingMergedWordsEncodeAsOneThread checks the encoder that
// uses it: 8 threads give one thread's ids and offsets.)
#include "tokenizer/shared_words.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tokalign::tok {
namespace {

// An entry whose every field follows from its key, so that a torn or foreign one shows.
CompactHotWord entry_for(uint64_t key) {
  CompactHotWord e;
  e.k0 = key * 0x9E3779B97F4A7C15ull;
  e.k1 = (key & 0xFFFFFFFFFFull) | uint64_t{5} << 56;  // a 5-byte word's tag in the top byte
  e.n = static_cast<uint8_t>(1 + key % 5);
  for (int k = 0; k < 5; ++k) {
    e.ids[k] = static_cast<uint16_t>(key * 7 + k);
    e.ranges[k] = static_cast<uint8_t>(key * 3 + k);
  }
  return e;
}

bool same(const CompactHotWord& a, const CompactHotWord& b) {
  if (a.k0 != b.k0 || a.k1 != b.k1 || (a.n & 0x7F) != (b.n & 0x7F)) return false;
  for (int k = 0; k < 5; ++k)
    if (a.ids[k] != b.ids[k] || a.ranges[k] != b.ranges[k]) return false;
  return true;
}

TEST(SharedWords, FindsWhatWasAddedAndNothingElse) {
  SharedCompactWords t;
  EXPECT_FALSE(t.in_use());
  t.join();
  EXPECT_FALSE(t.in_use()) << "one thread has no one to share with";
  EXPECT_EQ(t.words(), 0u);
  t.join();
  EXPECT_TRUE(t.in_use());
  CompactHotWord e = entry_for(42);
  e.n |= 0x80;  // a thread's own replacement bit: not the shared entry's business
  t.add(e);
  t.add(e);
  EXPECT_EQ(t.words(), 1u) << "a word added twice is kept once";
  CompactHotWord got;
  ASSERT_TRUE(t.find(e.k0, e.k1, got));
  EXPECT_TRUE(same(got, entry_for(42)));
  EXPECT_EQ(got.n & 0x80, 0) << "the replacement bit came along";
  const CompactHotWord other = entry_for(43);
  EXPECT_FALSE(t.find(other.k0, other.k1, got));
  EXPECT_FALSE(t.find(e.k0, e.k1 ^ (uint64_t{1} << 56), got)) << "same bytes, other length or flags";
}

TEST(SharedWords, ThreadsAddingAndFindingAtOnceSeeWholeEntries) {
  SharedCompactWords t;
  constexpr int kThreads = 8;
  constexpr uint64_t kKeys = 40000;  // half of each thread's keys are another thread's too
  std::atomic<uint64_t> found{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th)
    threads.emplace_back([&, th] {
      // Each thread joins as an encoding thread does; the second to join makes the table,
      // and the others start once it is published.
      t.join();
      while (!t.in_use()) std::this_thread::yield();
      for (uint64_t i = 0; i < kKeys; ++i) {
        const uint64_t key = (i % 2 == 0) ? i : i * kThreads + static_cast<uint64_t>(th);
        const CompactHotWord want = entry_for(key);
        CompactHotWord got;
        if (t.find(want.k0, want.k1, got)) {
          found.fetch_add(1, std::memory_order_relaxed);
          if (!same(got, want)) wrong.fetch_add(1, std::memory_order_relaxed);
        } else {
          t.add(want);
        }
        // A key another thread is adding about now.
        const CompactHotWord near = entry_for(i > 0 ? i - 1 : 0);
        if (t.find(near.k0, near.k1, got) && !same(got, near)) wrong.fetch_add(1, std::memory_order_relaxed);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_GT(found.load(), 0u) << "no thread found another's word";
  // The keys added are found, whole (all but the few whose kProbes slots all filled first:
  // the table holds 180,000 keys here, 69% of its slots).
  size_t kept = 0;
  for (uint64_t i = 0; i < kKeys; i += 2) {
    const CompactHotWord want = entry_for(i);
    CompactHotWord got;
    if (!t.find(want.k0, want.k1, got)) continue;
    ASSERT_TRUE(same(got, want)) << i;
    ++kept;
  }
  EXPECT_GT(kept, kKeys / 2 * 98 / 100);
}

TEST(SharedWords, AFullTableKeepsWhatItHas) {
  SharedCompactWords t;
  t.join();
  t.join();
  const uint64_t n = uint64_t{3} << SharedCompactWords::kLogSlots >> 1;  // 1.5x the slots
  for (uint64_t key = 0; key < n; ++key) t.add(entry_for(key));
  const size_t kept = t.words();
  EXPECT_LE(kept, size_t{1} << SharedCompactWords::kLogSlots);
  EXPECT_GT(kept, (size_t{1} << SharedCompactWords::kLogSlots) / 2);
  size_t hits = 0;
  for (uint64_t key = 0; key < n; ++key) {
    const CompactHotWord want = entry_for(key);
    CompactHotWord got;
    if (!t.find(want.k0, want.k1, got)) continue;
    ASSERT_TRUE(same(got, want)) << key;
    ++hits;
  }
  EXPECT_EQ(hits, kept);
}

}  // namespace
}  // namespace tokalign::tok
