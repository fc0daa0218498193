// PartCommits: a part waiting for the run's identity holds no sealing slot (so the run goes
// on while the input is still being hashed), every part handed over is committed exactly once
// with that identity, at most max_sealing parts seal at once, and an I/O error surfaces.
#include "shard/part_commits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <stdexcept>
#include <thread>

#include "util/error.h"

namespace tokalign::shard {
namespace {

using namespace std::chrono_literals;

// What the commits did, across the fake parts' threads.
struct Log {
  std::mutex mu;
  std::map<uint64_t, int> sealed, finished;
  std::map<uint64_t, std::string> sources;  // the identity each part's manifest got
  std::atomic<int> sealing{0}, most_sealing{0};
  // When set, a seal waits (up to 10 s) until this many parts have been sealing at once, so a
  // test of the limit does not depend on the threads' timing.
  int gather = 0;
};

class FakePart : public SampleWriter {
 public:
  FakePart(uint64_t index, Log& log, std::chrono::milliseconds seal_time = 0ms, bool seal_fails = false)
      : index_(index), log_(log), seal_time_(seal_time), seal_fails_(seal_fails) {}
  void write(const Sample&) override {}
  void quarantine(const QuarantineRecord&) override {}
  void seal() override {
    const int now = ++log_.sealing;
    for (int m = log_.most_sealing; now > m && !log_.most_sealing.compare_exchange_weak(m, now);) {}
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (log_.most_sealing < log_.gather && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(seal_time_);
    --log_.sealing;
    if (seal_fails_) throw Error("part-" + std::to_string(index_) + ": write error: No space left on device");
    std::lock_guard<std::mutex> lock(log_.mu);
    ++log_.sealed[index_];
  }
  void finish(const RunInfo& info) override {
    std::lock_guard<std::mutex> lock(log_.mu);
    EXPECT_EQ(log_.sealed[index_], 1) << "part " << index_ << " finished before it was sealed";
    ++log_.finished[index_];
    log_.sources[index_] = info.sources_json;
  }

 private:
  uint64_t index_;
  Log& log_;
  std::chrono::milliseconds seal_time_;
  bool seal_fails_;
};

PartCommits::Finish finish_with_part_json() {
  return [](uint64_t, SampleWriter& part, const RunInfo& info) { part.finish(info); };
}

TEST(PartCommits, PartsWaitingForTheInputsHashDoNotHoldTheRunBack) {
  Log log;
  std::promise<RunInfo> hash;
  PartCommits commits(hash.get_future().share(), finish_with_part_json(), 2);
  // Twenty parts handed over while the identity is not known: with two sealing slots, each
  // add returns once a slot is free, not once a manifest is written (which cannot happen yet).
  auto adding = std::async(std::launch::async, [&] {
    for (uint64_t i = 0; i < 20; ++i) commits.add(i, std::make_unique<FakePart>(i, log, 2ms));
  });
  const bool went_on = adding.wait_for(10s) == std::future_status::ready;
  EXPECT_TRUE(went_on) << "handing parts over waited for the input's hash";
  {
    std::lock_guard<std::mutex> lock(log.mu);
    EXPECT_TRUE(log.finished.empty()) << "a manifest was written before the run's identity was known";
  }
  RunInfo info;
  info.sources_json = "[{\"sha256\": \"abc\"}]";
  hash.set_value(info);  // (also what lets a run that did wait go on, so that a failure ends)
  adding.get();
  const std::vector<uint64_t> done = commits.wait();
  ASSERT_EQ(done.size(), 20u);
  for (uint64_t i = 0; i < 20; ++i) {
    EXPECT_EQ(done[i], i);
    EXPECT_EQ(log.sealed[i], 1) << "part " << i;
    EXPECT_EQ(log.finished[i], 1) << "part " << i;
    EXPECT_EQ(log.sources[i], info.sources_json) << "part " << i;
  }
  EXPECT_LE(log.most_sealing.load(), 2);
}

TEST(PartCommits, AtMostMaxSealingPartsSealAtOnce) {
  Log log;
  std::promise<RunInfo> hash;
  hash.set_value(RunInfo{});
  // The first seals wait until three are sealing at once, so the slots fill whatever the
  // threads' timing (fixed sleeps need not overlap on a loaded machine); a fourth at once
  // would show as most_sealing 4.
  log.gather = 3;
  PartCommits commits(hash.get_future().share(), finish_with_part_json(), 3);
  for (uint64_t i = 0; i < 12; ++i) commits.add(i, std::make_unique<FakePart>(i, log, 2ms));
  EXPECT_EQ(commits.wait().size(), 12u);
  EXPECT_EQ(log.most_sealing.load(), 3) << "slow seals should fill, and not pass, the three slots";
}

TEST(PartCommits, AnIoErrorSurfacesAndTheFailedPartIsNotCommitted) {
  Log log;
  std::promise<RunInfo> hash;
  hash.set_value(RunInfo{});
  PartCommits commits(hash.get_future().share(), finish_with_part_json(), 8);
  // The error surfaces from whichever call comes after part 2's seal failed: add(3) when the
  // sealing thread was quick (add throws an earlier part's error, as the header says), else wait().
  try {
    for (uint64_t i = 0; i < 4; ++i) commits.add(i, std::make_unique<FakePart>(i, log, 0ms, i == 2));
    commits.wait();
    FAIL() << "a part's write error was lost";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("part-2: write error"), std::string::npos) << e.what();
  }
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_EQ(log.finished.count(2), 0u) << "a part whose files failed to close got a manifest";
}

TEST(PartCommits, AddThrowsAnEarlierPartsError) {
  Log log;
  std::promise<RunInfo> hash;
  hash.set_value(RunInfo{});
  // One sealing slot: add(1) waits for part 0's seal, whose failure is recorded under the same
  // lock that frees the slot, so add(1) must see it.
  PartCommits commits(hash.get_future().share(), finish_with_part_json(), 1);
  commits.add(0, std::make_unique<FakePart>(0, log, 5ms, true));
  EXPECT_THROW(commits.add(1, std::make_unique<FakePart>(1, log)), Error);
  EXPECT_THROW(commits.wait(), Error);
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_TRUE(log.finished.empty());
  EXPECT_EQ(log.sealed.count(1), 0u) << "a part handed over after an error was sealed";
}

TEST(PartCommits, TheIdentitysErrorSurfaces) {
  Log log;
  std::promise<RunInfo> hash;
  PartCommits commits(hash.get_future().share(), finish_with_part_json(), 2);
  commits.add(0, std::make_unique<FakePart>(0, log));
  hash.set_exception(std::make_exception_ptr(Error("data.json: cannot read")));
  EXPECT_THROW(commits.wait(), Error);
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_TRUE(log.finished.empty());
}

}  // namespace
}  // namespace tokalign::shard
