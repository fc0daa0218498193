// HotWords: a word's key does not depend on how it was read (the two loads that stay inside
// it, or the masked 16-byte loads when the text goes on), and a stored word is found again
// with its tokens while a different word (or flag) is not taken for it.
#include "tokenizer/hot_words.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

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

}  // namespace
}  // namespace tokalign::tok
