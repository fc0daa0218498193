// run_ends and contiguous against the plain loops they replace, on random token ranges: in
// order, touching, with gaps, empty, decreasing, added tokens, values past 2^31 (the SSE2
// compares are unsigned ones through a flipped top bit), and every length up to 40 (the
// four-token steps and the tail).
#include "compile/token_ranges.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace tokalign::compile {
namespace {

std::vector<TokenRange> random_ranges(std::mt19937& rng, size_t n) {
  std::vector<TokenRange> r(n);
  const uint32_t base = rng() % 4 == 0 ? 0x7FFFFFF0u + rng() % 32 : rng() % 100;  // about 2^31, or small
  uint32_t at = base;
  const int kind = static_cast<int>(rng() % 4);  // 0: contiguous, in order; others: faults now and then
  for (size_t j = 0; j < n; ++j) {
    uint32_t start = at, len = 1 + rng() % 5;
    if (kind && rng() % 8 == 0) start += rng() % 3;                                      // a gap
    if (kind && rng() % 8 == 0) len = 0;                                                 // empty
    if (kind && rng() % 10 == 0) start = start > 2 ? start - 1 - rng() % 2 : start;      // backwards
    if (kind == 3 && rng() % 10 == 0) len = static_cast<uint32_t>(-static_cast<int>(rng() % 3));  // end before start
    r[j] = {start, start + len};
    at = r[j].second;
  }
  return r;
}

// 20,000 rounds of random ranges (up to 40 tokens): check(ranges, rng) asserts and says
// whether the case had the fault it looks for; both outcomes must come up often.
template <class Check>
void random_rounds(unsigned seed, Check check) {
  std::mt19937 rng(seed);
  size_t faults = 0;
  for (int round = 0; round < 20000; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::vector<TokenRange> r = random_ranges(rng, rng() % 41);
    faults += check(r, rng);
    if (::testing::Test::HasFailure()) return;  // the first failing round is enough
  }
  EXPECT_GT(faults, 2000u);
  EXPECT_LT(faults, 18000u);
}

TEST(TokenRanges, RunEndsAgreeWithThePlainLoops) {
  random_rounds(17, [](const std::vector<TokenRange>& r, std::mt19937& rng) {
    const size_t n = r.size();
    std::vector<uint8_t> added(n);
    for (auto& a : added) a = rng() % 9 == 0 ? static_cast<uint8_t>(1 + rng() % 255) : 0;
    std::vector<uint32_t> want(n), got(n, 7);
    bool disorder = false;
    for (size_t j = 0; j < n; ++j) {
      want[j] = ((added[j] != 0) | (r[j].second <= r[j].first)) ? UINT32_MAX : r[j].second;
      if (j) disorder |= (r[j - 1].first > r[j].first) | (r[j - 1].second > r[j].second);
    }
    EXPECT_EQ(run_ends(r.data(), added.data(), n, got.data()), !disorder) << n << " tokens";
    EXPECT_EQ(got, want);
    return disorder;
  });
}

TEST(TokenRanges, ContiguousAgreesWithThePlainLoop) {
  random_rounds(23, [](const std::vector<TokenRange>& r, std::mt19937&) {
    bool want = true;
    for (size_t j = 1; j < r.size(); ++j) want &= r[j].first == r[j - 1].second;
    EXPECT_EQ(contiguous(reinterpret_cast<const uint32_t*>(r.data()), r.size()), want) << r.size() << " tokens";
    return !want;
  });
}

// A single break at each place of a long contiguous run is found (the steps and the tail).
TEST(TokenRanges, ContiguousFindsABreakAnywhere) {
  for (size_t n = 2; n < 24; ++n)
    for (size_t at = 1; at < n; ++at) {
      std::vector<TokenRange> r(n);
      for (size_t j = 0; j < n; ++j) r[j] = {static_cast<uint32_t>(3 * j), static_cast<uint32_t>(3 * j + 3)};
      ASSERT_TRUE(contiguous(reinterpret_cast<const uint32_t*>(r.data()), n));
      r[at].first += 1;
      ASSERT_FALSE(contiguous(reinterpret_cast<const uint32_t*>(r.data()), n)) << n << " tokens, break before " << at;
    }
}

}  // namespace
}  // namespace tokalign::compile
