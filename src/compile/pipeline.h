// The compile pipeline over a whole dataset: records read in order, compiled on N threads,
// handed on in input order. The output is the same for any thread count (each record is
// compiled on its own; only the order of hand-over is arranged), and memory is bounded by
// the records in flight, not by the dataset.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "chat/conversation.h"
#include "chat/problem.h"
#include "chat/reader.h"
#include "chat/record_stream.h"
#include "compile/compiler.h"

namespace tokalign::compile {

// One record and what became of it. (The conversation read from it stays with the worker
// that compiled it: the item carries what the sink needs of it.)
struct PipelineItem {
  chat::SourcePos pos;
  std::string id;        // the record's id (or "#<index>"), as far as reading got
  size_t messages = 0;   // the messages read
  bool ok = false;       // compiled; else `problem` says why (quarantine)
  Sample sample;         // when not ok: whatever was encoded before the problem
  chat::Problem problem;
};

// Where the threads of a run spent their time (seconds; for finding the stage that limits a
// run on many cores): each thread's CPU time, and the time it waited on the others.
// With shared roles (PipelineOptions::Roles), each stage's CPU is summed over the threads that
// took it: reader_wait is the time they waited for the stream (another thread reading),
// workers_wait the time they waited for room (the batch to hand on next still compiling), and
// sink_wait stays 0 (a thread hands on only what is there).
struct PipelineStats {
  double reader_cpu = 0, reader_wait = 0;    // reading and splitting; waiting for room (the sink is behind)
  double workers_cpu = 0, workers_wait = 0;  // all workers together; waiting for records (the reader is behind)
  double sink_cpu = 0, sink_wait = 0;        // the calling thread; waiting for the next batch (the workers are behind)
  size_t threads = 0;
  bool shared = false;  // the threads shared the roles
  // On one thread: its CPU time over the run (the stages' times above are wall times, which
  // include whatever else ran on its CPU meanwhile: the process's writer and hash threads on
  // a CPU of its own).
  double thread_cpu = 0;
};

struct PipelineOptions {
  size_t threads = 1;       // 0: auto_workers(); 1: on the calling thread, no other thread
  // How two threads or more share the work. split: a reader thread, `threads` workers, and
  // the calling thread handing samples on in order. shared: `threads` threads (the calling
  // one among them) that each read a batch (one at a time, in order), compile it, and hand
  // on every compiled batch that is next in order. automatic: shared_roles() decides.
  enum class Roles { automatic, split, shared };
  Roles roles = Roles::automatic;
  size_t batch = 64;        // records per unit of work
  size_t in_flight = 0;     // batches read ahead of the sink at most (0: 4 per thread)
  // Records (by 0-based input index) to compile; the others are read past without parsing
  // and never reach the sink (resuming, --shard I/N). Empty: every record.
  std::function<bool(uint64_t index)> wanted;
  PipelineStats* stats = nullptr;  // filled when given (on one thread: each stage's wall time on it, no waits)
};

// The workers a pipeline runs when asked for 0 on a machine of `cores` cores: every core up to
// 7; from 8 on, three quarters of them. The reader, the thread that hands samples on and the
// shard's writers and hash need cores of their own as the workers' throughput grows: on the
// 16-core device, 100k samples took 0.289 s on 12 workers, 0.299 s on 14 and 0.319 s on 16
// (medians of 5 interleaved runs; docs/BENCHMARKS.md, tenth session).
size_t auto_workers(size_t cores);
// Whether Roles::automatic shares the roles among `threads` threads in a process that may use
// `cpus` CPUs: where the threads take every CPU, up to kSharedRolesUpTo of them. There a
// reader and a sink of their own take CPU from the workers at each wake-up; with CPUs to
// spare, they run beside them on those. On the 16-core device (665k mixture, 4 rounds, taskset
// for fewer CPUs) shared against split: -j 2 on 2 CPUs 6.19 against 6.56 s, -j 4 on 4 CPUs
// 3.73 against 4.00 s, -j 8 on 8 CPUs 2.05 against 2.08 s, -j 16 on 16 1.27 against 1.33 s;
// but -j 6 on 8 CPUs 2.30 against 2.06 s, -j 12 on 16 1.32 against 1.15 s. Past 16 threads
// the records are read faster by one thread that never waits than by the threads in turn,
// each waking the next: on 32 cores -j 32 1.11 against 0.83 s, the turns waiting 16.8 s in
// all for one another (docs/BENCHMARKS.md, twenty-fifth session).
inline constexpr size_t kSharedRolesUpTo = 16;
bool shared_roles(size_t threads, size_t cpus);
// The workers a pipeline asked for `threads` runs: `threads`, or for 0 auto_workers() of the
// CPUs this process may use (util/cpus.h).
size_t pipeline_workers(size_t threads);

// Reads every record of `records`, parses and compiles it (each thread with its own
// ConversationReader) and calls `sink` for each record in input order, one call at a time:
// on the calling thread, or with shared roles on whichever of the threads (the calling one
// among them) has the turn; `sink` returns false to stop early. What `sink` throws is
// rethrown once the threads have stopped. An error of the record
// stream itself (tokalign::Error: a broken file) is rethrown after the records before it
// have reached the sink.
// Returns the number of records the input holds (read, wanted or not) when the sink did not
// stop early.
uint64_t run_pipeline(chat::RecordStream& records, chat::InputFormat format, const Compiler& compiler,
                      const PipelineOptions& options, const std::function<bool(PipelineItem&)>& sink);

}  // namespace tokalign::compile
