// Stats: nearest-rank percentiles and histograms, counting, and --fail-if conditions.
#include "report/stats.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace tokalign::report {
namespace {

shard::Sample sample(size_t len, size_t trained, uint32_t flags = 0) {
  shard::Sample s;
  s.input_ids.assign(len, 5);
  s.labels.assign(len, shard::kIgnoreIndex);
  for (size_t i = 0; i < trained; ++i) s.labels[i] = 5;
  s.flags = flags;
  return s;
}

TEST(Distribution, NearestRankPercentilesAndBins) {
  std::vector<uint32_t> v;
  for (uint32_t i = 1; i <= 100; ++i) v.push_back(i);
  const Distribution d = Distribution::of(v, 10);
  EXPECT_EQ(d.min, 1);
  EXPECT_EQ(d.max, 100);
  EXPECT_EQ(d.median, 50);
  EXPECT_EQ(d.p95, 95);
  EXPECT_EQ(d.p99, 99);
  EXPECT_DOUBLE_EQ(d.mean, 50.5);
  ASSERT_EQ(d.histogram.size(), 10u);
  for (const auto& b : d.histogram) EXPECT_EQ(b.count, 10u);
  const Distribution one = Distribution::of({7});
  EXPECT_EQ(one.median, 7);
  EXPECT_EQ(one.histogram.size(), 1u);
  EXPECT_EQ(Distribution::of({}).n, 0u);
}

TEST(Stats, CountsAndConditions) {
  Stats st(100);
  st.add(sample(50, 10), 2);
  st.add(sample(150, 0, shard::kBoundaryMerge), 4);
  st.add_quarantined("zero_trained");
  st.add_quarantined("too_long");
  double v = 0;
  EXPECT_TRUE(st.holds("zero-trained>0", v));
  EXPECT_EQ(v, 1);
  EXPECT_TRUE(st.holds("over_max_len == 2", v)) << "one sample over 100 and one quarantined as too_long";
  EXPECT_FALSE(st.holds("quarantined-fraction>0.5", v));
  EXPECT_EQ(v, 0.5);
  EXPECT_TRUE(st.holds("trained_fraction<0.1", v));
  EXPECT_DOUBLE_EQ(v, 10.0 / 200.0);
  EXPECT_TRUE(st.holds("too_long>=1", v)) << "a quarantine reason is a statistic";
  EXPECT_TRUE(st.holds("boundary-merge!=0", v));
  EXPECT_THROW(st.holds("loss>0", v), Error);
  EXPECT_THROW(st.holds("quarantined>", v), Error);
  EXPECT_THROW(st.holds("quarantined 3", v), Error);
  const std::string j = st.json();
  EXPECT_NE(j.find("\"samples_in\":4"), std::string::npos) << j;
  EXPECT_NE(j.find("\"quarantine_reasons\":{\"too_long\":1,\"zero_trained\":1}"), std::string::npos) << j;
  EXPECT_NE(st.table().find("over --max-len 100"), std::string::npos);
}

}  // namespace
}  // namespace tokalign::report
