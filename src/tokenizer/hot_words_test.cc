// HotWords: a word's key does not depend on how it was read (the two loads that stay inside
// it, or the masked 16-byte loads when the text goes on), and a stored word is found again
// with its tokens while a different word (or flag) is not taken for it.
#include "tokenizer/hot_words.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace tokalign::tok {
namespace {

TEST(HotWords, KeyIsTheSameWhicheverWayTheWordIsRead) {
  auto table = std::make_unique<HotWords>();
  std::mt19937 rng(5);
  std::string text(64, '\0');
  for (int round = 0; round < 20000; ++round) {
    for (char& c : text) c = static_cast<char>(rng() % 4 == 0 ? ' ' : rng());  // bytes after the word vary
    const size_t n = 1 + rng() % HotWords::kMaxLen;
    const std::string_view w(text.data() + rng() % 16, n);
    const uint8_t flags = rng() % 2;
    const HotWords::Probe a = table->probe(w, flags), b = table->probe(w, flags, /*readable16=*/true);
    ASSERT_EQ(a.k0, b.k0) << n;
    ASSERT_EQ(a.k1, b.k1) << n;
    ASSERT_EQ(a.slot, b.slot) << n;
    ASSERT_EQ(a.tag, b.tag);
  }
}

TEST(HotWords, StoredWordIsFoundAndOthersAreNot) {
  auto table = std::make_unique<HotWords>();
  const uint32_t ids[3] = {7, 8, 9};
  const uint8_t start[3] = {0, 1, 4}, end[3] = {1, 4, 15};
  const std::string text = " Bingley’s fine, and more text after it";
  const std::string_view word(text.data(), HotWords::kMaxLen);  // " Bingley’s fi"
  HotWords::store(table->probe(word, 1), 3, ids, start, end);
  const HotWords::Probe hit = table->probe(word, 1, true);
  ASSERT_TRUE(hit.hit());
  EXPECT_EQ(hit.slot->n, 3);
  EXPECT_EQ(hit.slot->ids[2], 9u);
  EXPECT_EQ(hit.slot->start(2), 4u);
  EXPECT_EQ(hit.slot->end(2), 15u);
  EXPECT_FALSE(table->probe(word, 0).hit());                          // other flag
  EXPECT_FALSE(table->probe(word.substr(0, 14), 1).hit());            // a prefix
  std::string other(word);
  other.back() ^= 1;
  EXPECT_FALSE(table->probe(other, 1).hit());  // the last byte differs
}

// Two words of one set both stay; a third replaces the one used less recently.
TEST(HotWords, SetKeepsTwoWordsAndEvictsTheLeastRecentlyUsed) {
  auto table = std::make_unique<HotWords>();
  const HotWord* set = nullptr;
  std::vector<std::string> same_set;
  for (int i = 0; same_set.size() < 3; ++i) {
    const std::string w = " w" + std::to_string(i);
    const HotWords::Probe p = table->probe(w);
    if (!set) set = p.set;
    if (p.set == set) same_set.push_back(w);
  }
  const uint32_t ids[1] = {42};
  const uint8_t start[1] = {0}, end[1] = {3};
  auto put = [&](const std::string& w) { HotWords::store(table->probe(w), 1, ids, start, end); };
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
}

}  // namespace
}  // namespace tokalign::tok
