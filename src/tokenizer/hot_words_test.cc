// HotWords and CompactHotWords: a word's key does not depend on how it was read (the two
// loads that stay inside it, or the masked 16-byte loads when the text goes on), a stored
// word is found again with its tokens while a different word (or flag) is not taken for it,
// and a set keeps its two most recently used words.
#include "tokenizer/hot_words.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <type_traits>
#include <vector>

namespace tokalign::tok {
namespace {

template <class T>
class WordTable : public ::testing::Test {};
using Tables = ::testing::Types<HotWords, CompactHotWords>;
TYPED_TEST_SUITE(WordTable, Tables);

TYPED_TEST(WordTable, KeyIsTheSameWhicheverWayTheWordIsRead) {
  auto table = std::make_unique<TypeParam>();
  std::mt19937 rng(5);
  std::string text(64, '\0');
  for (int round = 0; round < 20000; ++round) {
    for (char& c : text) c = static_cast<char>(rng() % 4 == 0 ? ' ' : rng());  // bytes after the word vary
    const size_t n = 1 + rng() % TypeParam::kMaxLen;
    const std::string_view w(text.data() + rng() % 16, n);
    const uint8_t flags = rng() % 2;
    const auto a = table->probe(w, flags), b = table->probe(w, flags, /*readable16=*/true);
    ASSERT_EQ(a.k0, b.k0) << n;
    ASSERT_EQ(a.k1, b.k1) << n;
    ASSERT_EQ(a.slot, b.slot) << n;
    if constexpr (std::is_same_v<TypeParam, HotWords>) {
      ASSERT_EQ(a.tag, b.tag);
    }
  }
}

TYPED_TEST(WordTable, StoredWordIsFoundAndOthersAreNot) {
  auto table = std::make_unique<TypeParam>();
  const uint32_t ids[5] = {7, 8, 9, 65535, 3};
  const uint8_t start[5] = {0, 1, 4, 9, 12}, end[5] = {1, 4, 9, 12, 15};
  const std::string text = " Bingley’s fine, and more text after it";
  const std::string_view word(text.data(), TypeParam::kMaxLen);  // " Bingley’s fi"
  TypeParam::store(table->probe(word, 1), 5, ids, start, end);
  const auto hit = table->probe(word, 1, true);
  ASSERT_TRUE(hit.hit());
  const auto& h = *hit.slot;
  ASSERT_EQ(h.count(), 5u);
  uint32_t out[TypeParam::kRoom];
  h.copy_ids(out);
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(out[k], ids[k]);
    EXPECT_EQ(h.id(k), ids[k]);
    EXPECT_EQ(h.start(k), start[k]);
    EXPECT_EQ(h.end(k), end[k]);
  }
  // The ranges widened in registers: each offset by `at`, up to the largest values.
  for (const uint32_t at : {0u, 1000u, 0xFFFFFF00u}) {
    std::pair<uint32_t, uint32_t> ranges[TypeParam::kRoom];
    h.copy_ranges(at, ranges);
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_EQ(ranges[k].first, at + start[k]) << k;
      EXPECT_EQ(ranges[k].second, at + end[k]) << k;
    }
  }
  EXPECT_FALSE(table->probe(word, 0).hit());                // other flag
  EXPECT_FALSE(table->probe(word.substr(0, 14), 1).hit());  // a prefix
  std::string other(word);
  other.back() ^= 1;
  EXPECT_FALSE(table->probe(other, 1).hit());  // the last byte differs
  EXPECT_FALSE(table->probe("", 0).hit());     // an empty entry is no word
}

TEST(CompactHotWords, WordWithALargeIdIsNotKept) {
  auto table = std::make_unique<CompactHotWords>();
  const uint32_t ids[2] = {5, 70000};
  const uint8_t start[2] = {0, 2}, end[2] = {2, 4};
  CompactHotWords::store(table->probe(" abc"), 2, ids, start, end);
  EXPECT_FALSE(table->probe(" abc").hit());
}

// Two words of one set both stay; a third replaces the one used less recently.
TYPED_TEST(WordTable, SetKeepsTwoWordsAndEvictsTheLeastRecentlyUsed) {
  auto table = std::make_unique<TypeParam>();
  const void* set = nullptr;
  std::vector<std::string> same_set;
  for (int i = 0; same_set.size() < 3; ++i) {
    const std::string w = " w" + std::to_string(i);
    const auto p = table->probe(w);
    if (!set) set = p.set;
    if (p.set == set) same_set.push_back(w);
  }
  const uint32_t ids[1] = {42};
  const uint8_t start[1] = {0}, end[1] = {3};
  auto put = [&](const std::string& w) { TypeParam::store(table->probe(w), 1, ids, start, end); };
  const std::string &a = same_set[0], &b = same_set[1], &c = same_set[2];
  put(a);
  put(b);
  EXPECT_TRUE(table->probe(a).hit());  // a is now the more recently used
  EXPECT_TRUE(table->probe(b).hit());  // and now b
  EXPECT_TRUE(table->probe(a).hit());  // and a again
  put(c);                              // replaces b
  EXPECT_TRUE(table->probe(a).hit());
  EXPECT_TRUE(table->probe(c).hit());
  EXPECT_FALSE(table->probe(b).hit());
  EXPECT_EQ(table->probe(a).slot->count(), 1u);  // the eviction mark is not in the count
}

}  // namespace
}  // namespace tokalign::tok
