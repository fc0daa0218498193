#include "util/worker_pool.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tokalign {
namespace {

TEST(WorkerPool, RunsEveryItemOnceOnSeveralThreads) {
  WorkerPool& pool = WorkerPool::shared(4);
  EXPECT_EQ(pool.threads(), 4u);
  std::vector<std::atomic<int>> hits(10000);
  std::mutex mu;
  std::set<std::thread::id> ids;
  pool.run(hits.size(), [&](size_t i) {
    hits[i].fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  for (const auto& h : hits) ASSERT_EQ(h.load(), 1);
  EXPECT_GE(ids.size(), 1u);
  EXPECT_EQ(&WorkerPool::shared(4), &pool);  // the same threads next time
}

TEST(WorkerPool, KeepsItsThreadsFromRunToRun) {
  WorkerPool& pool = WorkerPool::shared(3);
  std::mutex mu;
  std::set<std::thread::id> first, later;
  for (int run = 0; run < 50; ++run)
    pool.run(2000, [&](size_t) {
      std::lock_guard<std::mutex> lock(mu);
      (run == 0 ? first : later).insert(std::this_thread::get_id());
    });
  // No new threads after the first runs: every thread seen later is the caller or a worker.
  EXPECT_LE(later.size(), 3u);
}

TEST(WorkerPool, RethrowsTheFirstErrorAndStaysUsable) {
  WorkerPool& pool = WorkerPool::shared(4);
  EXPECT_THROW(pool.run(1000, [](size_t i) {
    if (i == 500) throw std::runtime_error("item 500");
  }), std::runtime_error);
  std::atomic<size_t> n{0};
  pool.run(100, [&](size_t) { ++n; });
  EXPECT_EQ(n.load(), 100u);
}

TEST(WorkerPool, CallersFromSeveralThreadsTakeTurns) {
  WorkerPool& pool = WorkerPool::shared(2);
  std::atomic<size_t> n{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&] {
      for (int r = 0; r < 20; ++r) pool.run(100, [&](size_t) { ++n; });
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(n.load(), 4u * 20 * 100);
}

TEST(WorkerPool, WorksInAChildAfterFork) {
  WorkerPool::shared(3).run(100, [](size_t) {});  // the parent's pool exists and has threads
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the parent's workers are not here: a new pool must be made
    std::atomic<size_t> n{0};
    WorkerPool::shared(3).run(1000, [&](size_t) { ++n; });
    _exit(n.load() == 1000 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace tokalign
