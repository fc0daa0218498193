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

const ThreadCpu* find(const std::vector<ThreadCpu>& all, const std::string& role) {
  auto it = std::find_if(all.begin(), all.end(), [&](const ThreadCpu& t) { return t.role == role; });
  return it == all.end() ? nullptr : &*it;
}

TEST(ThreadCpu, EachThreadsTimeAddsUpUnderItsRole) {
  std::thread a([] {
    burn(0.03);
    note_thread_cpu("test burners");
  });
  std::thread b([] {
    burn(0.05);
    note_thread_cpu("test burners");
  });
  a.join();
  b.join();
  std::thread c([] { note_thread_cpu("test idler"); });
  c.join();
  const std::vector<ThreadCpu> all = noted_thread_cpu();
  const ThreadCpu* burners = find(all, "test burners");
  const ThreadCpu* idler = find(all, "test idler");
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
  std::thread a([] { note_wait("test wait one", 0.25); });
  a.join();
  note_wait("test wait two", 0.5);
  note_wait("test wait one", 0.125);
  const auto all = noted_waits();
  auto at = [&](const std::string& what) {
    return std::find_if(all.begin(), all.end(), [&](const auto& w) { return w.first == what; });
  };
  ASSERT_NE(at("test wait one"), all.end());
  ASSERT_NE(at("test wait two"), all.end());
  EXPECT_DOUBLE_EQ(at("test wait one")->second, 0.375);
  EXPECT_DOUBLE_EQ(at("test wait two")->second, 0.5);
  EXPECT_LT(at("test wait one"), at("test wait two")) << "in the order first noted";
}

}  // namespace
}  // namespace tokalign
