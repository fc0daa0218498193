#include "compile/pipeline.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <future>
#include <thread>
#include <vector>

#include "compile/pipeline_batch.h"
#include "util/cpus.h"
#include "util/thread_cpu.h"
#include "util/worker_pool.h"

namespace tokalign::compile {

using detail::Batch;

namespace {

constexpr size_t kBurstWorkers = 4;  // the most workers that read and hand on in bursts (below)

}  // namespace

size_t auto_workers(size_t cores) {
  cores = std::max<size_t>(cores, 1);
  return cores >= 8 ? cores - cores / 4 : cores;
}

bool shared_roles(size_t threads, size_t cpus) { return threads >= cpus && threads <= kSharedRolesUpTo; }

size_t pipeline_workers(size_t threads) { return threads ? threads : auto_workers(resolve_threads(0)); }

uint64_t run_pipeline(chat::RecordStream& records, chat::InputFormat format, const Compiler& compiler,
                      const PipelineOptions& options, const std::function<bool(PipelineItem&)>& sink) {
  uint64_t total = 0;  // records read (the reader's count)
  const size_t threads = pipeline_workers(options.threads);
  // The compiler's lazily built tables, made beside the start (the first record's reading and
  // encoding) rather than by the first worker to need them while the others wait. The future
  // waits for it when this returns; an error there stays in it, for the compile that meets it
  // to raise (a call_once that threw is tried again).
  const std::future<void> warm_up = std::async(std::launch::async, [&compiler] { compiler.warm_up(); });
  if (threads <= 1) {
    chat::ConversationReader reader(format);
    chat::Conversation conv;
    std::string_view text;
    chat::SourcePos pos;
    PipelineItem item;
    // With stats: the time each stage took on this one thread (reader_cpu: reading and
    // splitting; workers_cpu: parsing and compiling; sink_cpu: handing on).
    using Clock = std::chrono::steady_clock;
    PipelineStats st;
    st.threads = 1;
    auto since = [](Clock::time_point& t) {
      const Clock::time_point now = Clock::now();
      const double s = std::chrono::duration<double>(now - t).count();
      t = now;
      return s;
    };
    const bool timed = options.stats != nullptr;
    const double cpu0 = timed ? thread_cpu_seconds() : 0;
    Clock::time_point t = Clock::now();
    bool more = true;
    for (;;) {
      more = records.next(text, pos);
      if (timed) st.reader_cpu += since(t);
      if (!more) break;
      ++total;
      if (options.wanted && !options.wanted(pos.index)) continue;
      detail::compile_one(reader, conv, compiler, text, pos, item);
      if (timed) st.workers_cpu += since(t);
      const bool go_on = sink(item);
      if (timed) st.sink_cpu += since(t);
      if (!go_on) break;
    }
    if (timed) {
      st.thread_cpu = thread_cpu_seconds() - cpu0;
      *options.stats = st;
    }
    return total;
  }

  if (options.roles == PipelineOptions::Roles::shared ||
      (options.roles == PipelineOptions::Roles::automatic && shared_roles(threads, available_cpus())))
    return detail::run_shared(records, format, compiler, options, sink, threads);

  const size_t batch_size = options.batch ? options.batch : 64;
  const size_t max_in_flight = options.in_flight ? options.in_flight : 4 * threads;
  // With few workers the reader and the sink are woken for several batches at a time instead
  // of one: a reader that finds the queue full waits until half of it has gone, then reads on;
  // the sink waits for as many compiled batches as there are workers (the next one among
  // them). Each wake-up is a context switch, and where the workers take every CPU (the VM's
  // two, -j 2) it costs the workers' time: 100k samples at -j 2 made some 3,800 voluntary and
  // 3,300 involuntary switches, 2,000 and 1,800 with these bursts, and ran 3% faster (on the
  // VM, and the 665k mixture at -j 2 on the device; docs/BENCHMARKS.md). With many workers
  // the reader and the sink are near their own limits (on the device at -j 12 the reader is
  // busy 65% of the run and the sink 75%): there the bursts starved the workers of records
  // (4 rounds: they waited 0.05-0.18 s against 0.03-0.10 s) and the run was 4% slower, so
  // each batch wakes them. (Where the workers take every CPU, as on the VM, the roles are now
  // shared instead, unless split is asked for: bursts serve few workers with CPUs to spare,
  // like -j 2 on the device, where they were measured too.)
  const bool bursts = threads <= kBurstWorkers;
  // Batches in flight when a waiting reader reads on; the sink wakes it at exactly this count.
  const size_t refill_at = bursts ? max_in_flight / 2 : max_in_flight - 1;
  // Compiled batches the sink waits for. Never more than refill_at + 1: fewer batches in
  // flight than that let the reader read on, so a sink waiting for them never waits for nothing.
  const size_t sink_batches = bursts ? std::max<size_t>(1, std::min(threads, refill_at + 1)) : 1;
  std::mutex mu;
  std::condition_variable work_cv, done_cv, room_cv;
  std::deque<std::unique_ptr<Batch>> todo;           // read, not yet compiled
  std::map<uint64_t, std::unique_ptr<Batch>> done;   // compiled, not yet handed on
  // Handed-on batches, reused by the reader with their storage (records and samples), so
  // that no thread frees what another allocated, and steady state allocates little.
  std::vector<std::unique_ptr<Batch>> spent;
  uint64_t read_seq = 0;                             // batches read so far
  uint64_t next_out = 0;                             // the batch the sink needs next
  bool reading_done = false, stop = false, stopped_early = false;
  std::exception_ptr read_error, work_error;
  PipelineStats st;  // waits are added under mu; CPU times as each thread ends
  st.threads = threads;

  // (under mu) The sink has something to do: the next batch and enough after it, or the end.
  auto sink_may_go = [&] {
    return work_error || (reading_done && next_out == read_seq) ||
           (done.count(next_out) && (done.size() >= sink_batches || reading_done));
  };

  auto worker = [&] {
    pthread_setname_np(pthread_self(), "tokalign-work");
    chat::ConversationReader reader(format);
    chat::Conversation conv;
    auto end = [&] { st.workers_cpu += thread_cpu_seconds(); };  // under mu
    for (;;) {
      std::unique_ptr<Batch> b;
      {
        std::unique_lock<std::mutex> lock(mu);
        timed_wait(work_cv, lock, st.workers_wait, [&] { return stop || !todo.empty() || reading_done; });
        if (stop || (todo.empty() && reading_done)) return end();
        b = std::move(todo.front());
        todo.pop_front();
      }
      try {
        detail::compile_batch(reader, conv, compiler, *b);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        end();
        if (!work_error) work_error = std::current_exception();
        stop = true;
        work_cv.notify_all();
        done_cv.notify_all();
        room_cv.notify_all();
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      done.emplace(b->seq, std::move(b));
      if (sink_may_go()) done_cv.notify_one();
    }
  };

  const bool views = detail::hold_views(records);
  auto reader_thread = [&] {
    pthread_setname_np(pthread_self(), "tokalign-read");
    auto b = std::make_unique<Batch>();
    auto push = [&]() -> bool {
      std::unique_lock<std::mutex> lock(mu);
      if (read_seq - next_out >= max_in_flight)
        timed_wait(room_cv, lock, st.reader_wait, [&] { return stop || read_seq - next_out <= refill_at; });
      if (stop) return false;
      b->seq = read_seq++;
      todo.push_back(std::move(b));
      work_cv.notify_one();
      if (!spent.empty()) {
        b = std::move(spent.back());
        spent.pop_back();
      } else {
        b = std::make_unique<Batch>();
      }
      return true;
    };
    try {
      while (detail::read_batch(records, options, views, batch_size, *b, total))
        if (!push()) return;
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      read_error = std::current_exception();
    }
    // The last batch: the records after the last full one, before the end of the input or
    // the error that stopped reading (they reach the sink before it, as on one thread).
    if (!b->texts.empty() && !push()) return;
    std::lock_guard<std::mutex> lock(mu);
    st.reader_cpu = thread_cpu_seconds();
    reading_done = true;
    work_cv.notify_all();
    done_cv.notify_all();
  };

  const double sink_cpu0 = thread_cpu_seconds();
  std::vector<std::thread> pool;
  pool.reserve(threads + 1);
  pool.emplace_back(reader_thread);
  for (size_t i = 0; i < threads; ++i) pool.emplace_back(worker);
  auto shut_down = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    work_cv.notify_all();
    room_cv.notify_all();
    done_cv.notify_all();
    for (std::thread& t : pool) t.join();
  };

  try {
    for (;;) {
      std::unique_ptr<Batch> b;
      {
        std::unique_lock<std::mutex> lock(mu);
        // (after a wait, every batch ready in order is handed on before the next wait)
        if (!done.count(next_out)) timed_wait(done_cv, lock, st.sink_wait, sink_may_go);
        if (work_error) break;
        if (!done.count(next_out)) break;  // everything read has been handed on
        b = std::move(done[next_out]);
        done.erase(next_out);
        ++next_out;
        if (read_seq - next_out == refill_at) room_cv.notify_one();
      }
      for (PipelineItem& item : b->items)
        if (!sink(item)) {
          stopped_early = true;
          break;
        }
      if (stopped_early) break;
      if (views) records.release(b->end);
      std::lock_guard<std::mutex> lock(mu);
      spent.push_back(std::move(b));
    }
  } catch (...) {
    shut_down();
    throw;
  }
  shut_down();
  if (options.stats) {
    st.sink_cpu = thread_cpu_seconds() - sink_cpu0;
    *options.stats = st;
  }
  if (work_error) std::rethrow_exception(work_error);
  // As on one thread: a broken file matters only if the sink got that far.
  if (read_error && !stopped_early) std::rethrow_exception(read_error);
  return total;
}

}  // namespace tokalign::compile
