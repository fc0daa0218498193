// Thread CPU by role: each noting thread's own CPU time is added under its role, roles in the
// order first noted; waits likewise, by what was waited for.
#include "util/thread_cpu.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace tokalign {
namespace {

// Spins until this thread has used `seconds` of CPU.
void burn(double seconds) {
  const double start = thread_cpu_seconds();
  volatile uint64_t x = 0;
  while (thread_cpu_seconds() - start < seconds) x = x + 1;
}

// The registry is the process's: a name of this run's own, so a repeated test
// (--gtest_repeat) does not find what its earlier runs noted.
std::string fresh(const std::string& name) {
  static int runs = 0;
  return name + " " + std::to_string(++runs);
}

const ThreadCpu* find(const std::vector<ThreadCpu>& all, const std::string& role) {
  auto it = std::find_if(all.begin(), all.end(), [&](const ThreadCpu& t) { return t.role == role; });
  return it == all.end() ? nullptr : &*it;
}

TEST(ThreadCpu, EachThreadsTimeAddsUpUnderItsRole) {
  const std::string burners_role = fresh("test burners"), idler_role = fresh("test idler");
  std::thread a([&] {
    burn(0.03);
    note_thread_cpu(burners_role.c_str());
  });
  std::thread b([&] {
    burn(0.05);
    note_thread_cpu(burners_role.c_str());
  });
  a.join();
  b.join();
  std::thread c([&] { note_thread_cpu(idler_role.c_str()); });
  c.join();
  const std::vector<ThreadCpu> all = noted_thread_cpu();
  const ThreadCpu* burners = find(all, burners_role);
  const ThreadCpu* idler = find(all, idler_role);
  ASSERT_NE(burners, nullptr);
  ASSERT_NE(idler, nullptr);
  EXPECT_EQ(burners->threads, 2u);
  EXPECT_GE(burners->seconds, 0.08);
  EXPECT_LT(burners->seconds, 5.0);
  EXPECT_EQ(idler->threads, 1u);
  EXPECT_LT(idler->seconds, burners->seconds);
  EXPECT_LT(burners - all.data(), idler - all.data()) << "roles in the order first noted";
}

TEST(ThreadCpu, WaitsAddUpByWhatWasWaitedFor) {
  const std::string one = fresh("test wait one"), two = fresh("test wait two");
  std::thread a([&] { note_wait(one.c_str(), 0.25); });
  a.join();
  note_wait(two.c_str(), 0.5);
  note_wait(one.c_str(), 0.125);
  const auto all = noted_waits();
  auto at = [&](const std::string& what) {
    return std::find_if(all.begin(), all.end(), [&](const auto& w) { return w.first == what; });
  };
  ASSERT_NE(at(one), all.end());
  ASSERT_NE(at(two), all.end());
  EXPECT_DOUBLE_EQ(at(one)->second, 0.375);
  EXPECT_DOUBLE_EQ(at(two)->second, 0.5);
  EXPECT_LT(at(one), at(two)) << "in the order first noted";
}

}  // namespace
}  // namespace tokalign
