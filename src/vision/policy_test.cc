#include "vision/policy.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace tokalign::vision {
namespace {

// Python's float // (CPython float_floor_div), for values Python gives.
TEST(Policy, PyFloorDivIsPythons) {
  EXPECT_EQ(py_floordiv(7.0, 2.0), 3.0);
  EXPECT_EQ(py_floordiv(-7.0, 2.0), -4.0);
  EXPECT_EQ(py_floordiv(7.0, -2.0), -4.0);
  EXPECT_EQ(py_floordiv(1.0, 0.1), 9.0);  // 1.0 // 0.1 == 9.0 in Python, though 1.0 / 0.1 == 10.0
  EXPECT_EQ(py_floordiv(0.3, 0.1), 2.0);    // Python: 0.3 // 0.1 == 2.0
  EXPECT_EQ(py_floordiv(2.6, 0.2), 12.0);   // Python: 2.6 // 0.2 == 12.0
}

TEST(Policy, BuiltinNamesAndFixedCounts) {
  for (const char* n : {"llava-1.5", "clip-224", "siglip-384", "llava-next", "llava-onevision", "qwen2-vl", "qwen2.5-vl"})
    EXPECT_TRUE(find_policy(n)) << n;
  EXPECT_FALSE(find_policy("nope"));
  EXPECT_EQ(count_tokens(*find_policy("llava-1.5"), 1000, 10).tokens, 24u * 24u);
  Policy cls = *find_policy("llava-1.5");
  cls.cls = true;
  EXPECT_EQ(count_tokens(cls, 5, 5).tokens, 24u * 24u + 1u);
  EXPECT_EQ(count_tokens(*find_policy("siglip-384"), 5, 5).tokens, 27u * 27u);
  EXPECT_THROW(count_tokens(*find_policy("llava-next"), 0, 5), Error);
  EXPECT_THROW(count_tokens(*find_policy("qwen2-vl"), 1, 8000), Error);  // aspect ratio over 200
}

// The anyres arithmetic itself is checked against LLaVA-NeXT's own code on 1,324 sizes
// (tests/vision/counts.sh); here its parts: a square image picks 336x672 (the first of the
// pinpoints keeping it whole with the least waste) and unpads the 24x48 grid to 24x24.
TEST(Policy, AnyresSquareImage) {
  const Count c = count_tokens(*find_policy("llava-next"), 336, 336);
  EXPECT_EQ(c.grid_width, 336u);
  EXPECT_EQ(c.grid_height, 672u);
  EXPECT_EQ(c.rows, 24u);
  EXPECT_EQ(c.cols, 24u);
  EXPECT_EQ(c.tokens, 24u * 24u + 24u * 25u);
}

}  // namespace
}  // namespace tokalign::vision
