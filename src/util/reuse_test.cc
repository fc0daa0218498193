// grow_one / shrink_to / assign_reusing: the contents are what plain vector operations give,
// and a string's storage survives a shrink and a grow (no new allocation for it).
#include "util/reuse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tokalign {
namespace {

TEST(Reuse, ShrinkThenGrowGivesBackTheSameStorage) {
  std::vector<std::string> v, spare;
  grow_one(v, spare).assign(200, 'a');
  grow_one(v, spare).assign(300, 'b');
  const char* second = v[1].data();
  shrink_to(v, 1, spare);
  ASSERT_EQ(v.size(), 1u);
  ASSERT_EQ(spare.size(), 1u);
  std::string& again = grow_one(v, spare);
  EXPECT_EQ(again.data(), second);  // the 300-byte buffer, not a new one
  EXPECT_EQ(again, std::string(300, 'b'));  // still holding what it held: callers set it
  EXPECT_TRUE(spare.empty());
  EXPECT_EQ(grow_one(v, spare), "");  // no spare left: a new element
  EXPECT_EQ(v.size(), 3u);
}

TEST(Reuse, AssignReusingEqualsCopyAssignment) {
  std::vector<std::string> to, spare;
  const std::vector<std::vector<std::string>> froms = {
      {"x", std::string(40, 'y')}, {}, {std::string(50, 'p'), "q", std::string(60, 'r')}, {"s"}, {"t", "u"}};
  for (const auto& from : froms) {
    assign_reusing(to, from, spare);
    EXPECT_EQ(to, from);
  }
  // Three strings were the most at once: no more than three exist, in `to` and `spare` together.
  EXPECT_EQ(to.size() + spare.size(), 3u);
}

}  // namespace
}  // namespace tokalign
