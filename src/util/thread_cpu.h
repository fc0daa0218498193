// CPU time by thread role, for TOKALIGN_PIPELINE_STATS=1: each kind of thread a run starts
// (workers, shard file writers, the input's hash, ...) adds its CPU time as it ends, and the
// compile command prints the totals; so do the waits a stage notes. Where a stage's CPU goes,
// and who waits on whom, is what decides whether it bounds a run on many cores.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tokalign {

// CPU time of the calling thread so far, in seconds.
double thread_cpu_seconds();

// Adds the calling thread's CPU time so far to `role`'s total (call as the thread ends).
void note_thread_cpu(const char* role);

// The totals so far, by role in the order first noted: (role, seconds, threads).
struct ThreadCpu {
  std::string role;
  double seconds = 0;
  size_t threads = 0;
};
std::vector<ThreadCpu> noted_thread_cpu();

// Adds `seconds` a thread spent blocked on another stage to `what`'s total (e.g. handing
// samples on while the shard's writers had no room), and the totals so far, in the order
// first noted.
void note_wait(const char* what, double seconds);
std::vector<std::pair<std::string, double>> noted_waits();

// Waits on `cv` until `ready`, adding the time it took to `waited` (nothing when ready at once).
template <class Ready>
void timed_wait(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, double& waited, Ready ready) {
  if (ready()) return;
  const auto t0 = std::chrono::steady_clock::now();
  cv.wait(lock, ready);
  waited += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace tokalign
