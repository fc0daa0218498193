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
struct PipelineStats {
  double reader_cpu = 0, reader_wait = 0;    // reading and splitting; waiting for room (the sink is behind)
  double workers_cpu = 0, workers_wait = 0;  // all workers together; waiting for records (the reader is behind)
  double sink_cpu = 0, sink_wait = 0;        // the calling thread; waiting for the next batch (the workers are behind)
  size_t threads = 0;
  // On one thread: its CPU time over the run (the stages' times above are wall times, which
  // include whatever else ran on its CPU meanwhile: the process's writer and hash threads on
  // a CPU of its own).
  double thread_cpu = 0;
};

struct PipelineOptions {
  size_t threads = 1;       // 0: auto_workers(); 1: on the calling thread, no other thread
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
// The workers a pipeline asked for `threads` runs: `threads`, or for 0 auto_workers() of the
// CPUs this process may use (util/cpus.h).
size_t pipeline_workers(size_t threads);

// Reads every record of `records` (the reader thread), parses and compiles it (worker
// threads, each with its own ConversationReader) and calls `sink` on the calling thread for
// each record in input order; `sink` returns false to stop early. An error of the record
// stream itself (tokalign::Error: a broken file) is rethrown after the records before it
// have reached the sink.
// Returns the number of records the input holds (read, wanted or not) when the sink did not
// stop early.
uint64_t run_pipeline(chat::RecordStream& records, chat::InputFormat format, const Compiler& compiler,
                      const PipelineOptions& options, const std::function<bool(PipelineItem&)>& sink);

}  // namespace tokalign::compile
