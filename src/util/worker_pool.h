// A fixed set of worker threads kept from one parallel call to the next, so that their
// thread-local caches (the encoder's word table, scratch buffers) stay warm: Tokenizer::
// encode_batch called batch after batch (the encode command, Python's encode_batch) would
// otherwise start every batch on new threads with cold caches.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tokalign {

// The threads `threads` means (0: the CPUs this process may use, util/cpus.h; at least 1).
size_t resolve_threads(size_t threads);

class WorkerPool {
 public:
  // The process's pool with `threads` threads in all (the caller of run() counts as one):
  // created on first use, made anew in a child after fork() (the parent's threads are not
  // there), never destroyed (threads idle at exit are simply ended with the process). One
  // pool per thread count asked for: callers are expected to ask for one or two counts.
  // run() must not be called from inside a run() of the same pool (it would wait for itself).
  static WorkerPool& shared(size_t threads);

  // Runs fn(i) for every i in [0, n), spread over the workers and the calling thread; returns
  // when all are done, rethrowing the first exception (the remaining items are then skipped).
  // Calls from several threads at once take turns.
  void run(size_t n, const std::function<void(size_t)>& fn);

  size_t threads() const { return workers_.size() + 1; }

 private:
  explicit WorkerPool(size_t threads);
  void work_loop();
  void take_items();

  std::vector<std::thread> workers_;
  std::mutex run_mu_;  // one run() at a time
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  uint64_t generation_ = 0;
  size_t busy_ = 0;  // workers still in the current job
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  std::atomic<size_t> next_{0};
  std::exception_ptr error_;
};

}  // namespace tokalign
