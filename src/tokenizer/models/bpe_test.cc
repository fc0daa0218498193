// The two BPE merge loops (linear scan for short words, HF's heap for long ones) must give
// the same result; both are compared on random words over a small random merge table.
#include "tokenizer/models/bpe.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "util/error.h"

namespace tokalign::tok {
namespace {

TEST(Bpe, ScanAndHeapAgree) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    BpeConfig c;
    std::deque<std::string> toks = {"a", "b", "c", "d"};  // stable addresses: the config holds views
    for (auto& t : toks) c.vocab.emplace_back(t, c.vocab.size());
    for (int m = 0; m < 30; ++m) {
      const std::string& x = toks[rng() % toks.size()];
      const std::string& y = toks[rng() % toks.size()];
      if (x.size() + y.size() > 6) continue;
      std::string xy = x + y;
      if (xy.size() > 6) continue;
      bool known = false;
      for (auto& t : toks) known |= t == xy;
      if (!known) {
        toks.push_back(xy);
        c.vocab.emplace_back(toks.back(), c.vocab.size());
      }
      c.merges.emplace_back(x, y);
    }
    BpeModel model(c);
    for (int w = 0; w < 200; ++w) {
      std::string word;
      size_t n = 1 + rng() % 250;
      for (size_t k = 0; k < n; ++k) word.push_back("abcd"[rng() % 4]);
      std::vector<BpeModel::Symbol> a, b;
      for (size_t k = 0; k < n; ++k) a.push_back({*model.token_to_id(std::string(1, word[k])), uint32_t(k), 1});
      b = a;
      model.merge_symbols_scan(a);
      model.merge_symbols_heap(b);
      ASSERT_EQ(a.size(), b.size()) << word;
      for (size_t k = 0; k < a.size(); ++k) {
        EXPECT_EQ(a[k].id, b[k].id) << word;
        EXPECT_EQ(a[k].len, b[k].len) << word;
      }
    }
  }
}

TEST(Bpe, MergeNamingMissingTokenIsAnError) {
  BpeConfig c;
  c.vocab = {{"a", 0}, {"b", 1}};
  c.merges = {{"a", "b"}};
  EXPECT_THROW(BpeModel m(c), Error);
}

}  // namespace
}  // namespace tokalign::tok
