// check_tokens against the checks written as a plain loop, on random token arrays with text
// and image tokens, placeholder ids, ids at and past the vocabulary's end, and labels on both.
#include "compile/token_checks.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace tokalign::compile {
namespace {

TokenFaults plain(const std::vector<int32_t>& ids, const std::vector<int32_t>& labels, const std::vector<int32_t>& chunk,
                  uint32_t vocab) {
  TokenFaults f;
  for (size_t i = 0; i < ids.size(); ++i) {
    const bool image = chunk[i] < 0;
    if (labels[i] != shard::kIgnoreIndex) ++f.trained;
    const bool id_ok = (ids[i] >= 0 && static_cast<uint32_t>(ids[i]) < vocab) || (image && ids[i] == shard::kImagePlaceholder);
    if (!id_ok && f.bad_id == TokenFaults::kNone) f.bad_id = i;
    if (image && labels[i] != shard::kIgnoreIndex && f.bad_label == TokenFaults::kNone) f.bad_label = i;
  }
  return f;
}

TEST(TokenChecks, AgreeWithAPlainLoop) {
  std::mt19937 rng(9);
  const uint32_t vocab = 1000;
  size_t faults_seen[2] = {0, 0};
  for (int round = 0; round < 20000; ++round) {
    const size_t n = rng() % 40;
    std::vector<int32_t> ids(n), labels(n), chunk(n);
    const int rare = round % 3;  // 0: clean samples; 1-2: faults now and then
    for (size_t i = 0; i < n; ++i) {
      const bool image = rng() % 5 == 0;
      chunk[i] = image ? -1 : static_cast<int32_t>(rng() % 3);
      ids[i] = image ? shard::kImagePlaceholder : static_cast<int32_t>(rng() % vocab);
      labels[i] = !image && rng() % 2 ? ids[i] : shard::kIgnoreIndex;
      if (rare && rng() % 60 == 0) ids[i] = shard::kImagePlaceholder;  // a placeholder on text
      if (rare && rng() % 60 == 0) ids[i] = static_cast<int32_t>(vocab + rng() % 2);  // at / past the end
      if (rare && rng() % 60 == 0) ids[i] = -1 - static_cast<int32_t>(rng() % 300);  // negative
      if (rare && rng() % 60 == 0) labels[i] = ids[i];  // an image token labelled, perhaps
    }
    const TokenFaults want = plain(ids, labels, chunk, vocab);
    const TokenFaults got = check_tokens(ids.data(), labels.data(), chunk.data(), n, vocab);
    ASSERT_EQ(got.bad_id, want.bad_id) << round;
    ASSERT_EQ(got.bad_label, want.bad_label) << round;
    ASSERT_EQ(got.trained, want.trained) << round;
    faults_seen[0] += want.bad_id != TokenFaults::kNone;
    faults_seen[1] += want.bad_label != TokenFaults::kNone;
  }
  EXPECT_GT(faults_seen[0], 100u);  // both kinds of fault were reached
  EXPECT_GT(faults_seen[1], 100u);
}

}  // namespace
}  // namespace tokalign::compile
