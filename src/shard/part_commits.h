// The commits of a parted run's parts (shard/parts.h), in the background, so that the thread
// handing samples on goes straight on to the next part.
//
// A part written in full is handed over here. Its files are closed and synced on a thread of
// its own, at most `max_sealing` parts at once: each holds its files' buffers until then, and
// on a slow disk this is what holds the run back. Its manifest, which carries the run's
// identity (the input's hash among it), is written once that identity is known. A part sealed
// before then is parked: it keeps no thread and no sealing slot, and the next hand-over (or
// wait()) after the identity is known writes the parked parts' manifests.
//
// (The run used to keep a part's slot until its manifest was written. The input's hash is a
// pass over the whole input on one thread: at 16 threads on 2M samples it ended ~3 s into a
// ~5.5 s run, so the sink stalled at the eighth part until then: parts of 100k ran 17-20%
// slower than one shard, with the output in memory as on disk. docs/BENCHMARKS.md.)
//
// A part not committed when the run dies has no manifest and is redone on resume, whatever
// the order its manifests were written in.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "shard/writer.h"

namespace tokalign::shard {

class PartCommits {
 public:
  // Writes part `index`'s manifest (SampleWriter::finish with the run's identity and the part's
  // place); called once per part, on some background thread or in wait().
  using Finish = std::function<void(uint64_t index, SampleWriter& part, const RunInfo& info)>;

  PartCommits(std::shared_future<RunInfo> info, Finish finish, size_t max_sealing = 8);
  // Waits for the threads; a part not committed by then stays without a manifest.
  ~PartCommits();
  PartCommits(const PartCommits&) = delete;
  PartCommits& operator=(const PartCommits&) = delete;

  // Hands over part `index`, written in full. Returns once fewer than max_sealing parts are
  // being sealed; throws an earlier part's I/O error (the first one).
  void add(uint64_t index, std::unique_ptr<SampleWriter> part);
  // Waits for the run's identity and every part handed over; returns their indices in
  // increasing order. Throws the first error (a part's I/O, or the identity's).
  std::vector<uint64_t> wait();

 private:
  using Parked = std::vector<std::pair<uint64_t, std::unique_ptr<SampleWriter>>>;
  bool info_ready() const;
  void seal_then_finish(uint64_t index, std::unique_ptr<SampleWriter> part);
  void finish_one(uint64_t index, SampleWriter& part);
  void finish_parked_if_ready();
  void fail(std::exception_ptr e);
  void rethrow_error();

  std::shared_future<RunInfo> info_;
  Finish finish_;
  size_t max_sealing_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t sealing_ = 0;
  Parked parked_;
  std::vector<uint64_t> committed_;
  std::exception_ptr error_;
  std::vector<std::future<void>> tasks_;  // sealing and finishing threads (they throw nothing)
};

}  // namespace tokalign::shard
