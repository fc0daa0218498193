#include "util/worker_pool.h"

#include "util/cpus.h"

#include <unistd.h>

#include <map>


namespace tokalign {

size_t resolve_threads(size_t threads) { return threads ? threads : available_cpus(); }

WorkerPool& WorkerPool::shared(size_t threads) {
  static std::mutex mu;
  static pid_t owner = 0;
  static std::map<size_t, WorkerPool*>* pools = nullptr;  // leaked on purpose: see the header
  std::lock_guard<std::mutex> lock(mu);
  if (owner != getpid()) {  // first use, or a child after fork(): the old pools have no threads here
    pools = new std::map<size_t, WorkerPool*>;
    owner = getpid();
  }
  WorkerPool*& p = (*pools)[threads];
  if (!p) p = new WorkerPool(threads);
  return *p;
}

WorkerPool::WorkerPool(size_t threads) {
  for (size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { work_loop(); });
  for (std::thread& t : workers_) t.detach();
}

void WorkerPool::take_items() {
  try {
    for (size_t i; (i = next_.fetch_add(1)) < n_;) (*fn_)(i);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_) error_ = std::current_exception();
    next_ = n_;
  }
}

void WorkerPool::work_loop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
    }
    take_items();
    std::lock_guard<std::mutex> lock(mu_);
    if (--busy_ == 0) done_cv_.notify_one();
  }
}

void WorkerPool::run(size_t n, const std::function<void(size_t)>& fn) {
  std::lock_guard<std::mutex> one_at_a_time(run_mu_);
  if (workers_.empty() || n <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    n_ = n;
    next_ = 0;
    error_ = nullptr;
    busy_ = workers_.size();
    ++generation_;
  }
  start_cv_.notify_all();
  take_items();
  std::exception_ptr err;
  {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return busy_ == 0; });
    err = error_;
    fn_ = nullptr;
  }
  if (err) std::rethrow_exception(err);
}

}  // namespace tokalign
