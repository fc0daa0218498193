// The compile pipeline with shared roles (PipelineOptions::Roles::shared): every thread reads
// a batch, compiles it, and hands on whatever compiled batches are next in order.
//
// Why, where the threads take every CPU (shared_roles(), pipeline.h): with split roles, the
// reader and the thread that hands on wake beside the workers, and each wake-up takes a
// worker's CPU and its caches for a while. On the VM at -j 2 (two CPUs) the workers spent
// 12-20% more CPU a record than one thread doing everything (100k samples: 1.17-1.30 s against
// 1.03-1.07 s), running the same instructions (callgrind: +0.7%); one thread alone on a CPU
// that the writer threads share slows about as much (1.09-1.20 s). Here nothing passes between
// the threads but whole batches: a thread compiles the records it has just read, and hands on
// items it has often just written. With CPUs to spare, the reader and the sink of split roles
// run on those instead, which is faster. docs/BENCHMARKS.md, twenty-fifth session.
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <vector>

#include "compile/pipeline_batch.h"
#include "util/thread_cpu.h"

namespace tokalign::compile::detail {

uint64_t run_shared(chat::RecordStream& records, chat::InputFormat format, const Compiler& compiler,
                    const PipelineOptions& options, const std::function<bool(PipelineItem&)>& sink, size_t threads) {
  const size_t batch_size = options.batch ? options.batch : 64;
  // Read ahead of the batch to hand on next, at most: two per thread (on the VM at -j 2, 4 in
  // all was 2-5% faster than 8, and as fast as 3).
  const size_t max_in_flight = options.in_flight ? options.in_flight : 2 * threads;
  const bool views = hold_views(records);
  const bool timed = options.stats != nullptr;

  std::mutex read_mu;  // the stream: one thread reads at a time (taken before mu, never inside it)
  std::mutex mu;       // all below
  std::condition_variable room_cv;
  std::map<uint64_t, std::unique_ptr<Batch>> done;  // compiled, not yet handed on
  std::vector<std::unique_ptr<Batch>> spent;        // handed on, for reading into again
  uint64_t total = 0;                               // records read (under read_mu)
  uint64_t read_seq = 0;                            // batches read so far
  uint64_t next_out = 0;                            // the batch to hand on next
  bool reading_done = false, stop = false, handing_on = false, stopped_early = false;
  std::exception_ptr read_error, error;
  PipelineStats st;
  st.threads = threads;
  st.shared = true;

  auto take_turns = [&] {
    PipelineStats mine;  // this thread's CPU in each role, and its waits
    double cpu = timed ? thread_cpu_seconds() : 0;
    auto lap = [&](double& role) {  // the CPU since the last lap, to `role`
      if (!timed) return;
      const double now = thread_cpu_seconds();
      role += now - cpu;
      cpu = now;
    };
    auto fail = [&](std::exception_ptr e) {  // under mu
      if (!error) error = e;
      stop = true;
      room_cv.notify_all();
    };
    std::unique_ptr<Batch> b;  // the batch this thread reads into next
    try {  // (what is thrown outside the handlers below: out of memory)
      chat::ConversationReader reader(format);
      chat::Conversation conv;
      for (;;) {
        {
          std::unique_lock<std::mutex> lock(mu);
          timed_wait(room_cv, lock, mine.workers_wait, [&] { return stop || reading_done || read_seq - next_out < max_in_flight; });
          if (stop || reading_done) break;
          if (!b && !spent.empty()) {
            b = std::move(spent.back());
            spent.pop_back();
          }
        }
        if (!b) b = std::make_unique<Batch>();
        // Reading. The batch is numbered as it is read, so numbers follow the input.
        {
          std::unique_lock<std::mutex> read_lock(read_mu, std::defer_lock);
          if (!read_lock.try_lock()) {
            const auto t0 = std::chrono::steady_clock::now();
            read_lock.lock();
            mine.reader_wait += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          }
          lap(mine.workers_cpu);
          {
            std::lock_guard<std::mutex> lock(mu);
            if (stop || reading_done) break;  // (while this thread waited for the stream)
          }
          bool end = false;
          try {
            end = !read_batch(records, options, views, batch_size, *b, total);
          } catch (...) {
            end = true;
            std::lock_guard<std::mutex> lock(mu);
            read_error = std::current_exception();
          }
          lap(mine.reader_cpu);
          std::lock_guard<std::mutex> lock(mu);
          if (!b->texts.empty()) b->seq = read_seq++;
          if (end) {
            reading_done = true;
            room_cv.notify_all();
          }
        }
        if (b->texts.empty()) break;  // (the input ended at a full batch)
        try {
          compile_batch(reader, conv, compiler, *b);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu);
          fail(std::current_exception());
          break;
        }
        lap(mine.workers_cpu);
        // Handing on: this batch and the compiled ones after it while each is next in order,
        // unless another thread is at it (it takes this batch too, in its turn).
        std::unique_lock<std::mutex> lock(mu);
        done.emplace(b->seq, std::move(b));
        if (handing_on) continue;
        handing_on = true;
        for (auto it = done.find(next_out); !stop && it != done.end(); it = done.find(next_out)) {
          std::unique_ptr<Batch> h = std::move(it->second);
          done.erase(it);
          lock.unlock();
          bool go_on = true;
          try {
            for (PipelineItem& item : h->items)
              if (!(go_on = sink(item))) break;
          } catch (...) {
            lock.lock();
            fail(std::current_exception());
            break;
          }
          if (go_on && views) records.release(h->end);
          lock.lock();
          if (!go_on) {
            stopped_early = stop = true;
            room_cv.notify_all();
            break;
          }
          ++next_out;
          room_cv.notify_all();
          // (the first one handed on becomes this thread's next batch: no trip through spent)
          if (!b) b = std::move(h);
          else spent.push_back(std::move(h));
        }
        handing_on = false;
        const bool over = stop;  // (the sink stopped or failed, or another thread failed)
        lock.unlock();
        lap(mine.sink_cpu);
        if (over) break;
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      fail(std::current_exception());
    }
    lap(mine.workers_cpu);
    std::lock_guard<std::mutex> lock(mu);
    st.reader_cpu += mine.reader_cpu;
    st.reader_wait += mine.reader_wait;
    st.workers_cpu += mine.workers_cpu;
    st.workers_wait += mine.workers_wait;
    st.sink_cpu += mine.sink_cpu;
  };

  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  auto join = [&] {
    for (std::thread& t : pool) t.join();
  };
  try {
    for (size_t i = 1; i < threads; ++i)
      pool.emplace_back([&] {
        pthread_setname_np(pthread_self(), "tokalign-work");
        take_turns();
      });
    take_turns();
  } catch (...) {  // (a thread not started; take_turns itself keeps what it throws for below)
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    room_cv.notify_all();
    join();
    throw;
  }
  join();
  if (options.stats) *options.stats = st;
  if (error) std::rethrow_exception(error);
  // As on one thread: a broken file matters only if the sink got that far.
  if (read_error && !stopped_early) std::rethrow_exception(read_error);
  return total;
}

}  // namespace tokalign::compile::detail
