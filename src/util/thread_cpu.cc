#include "util/thread_cpu.h"

#include <ctime>
#include <mutex>

namespace tokalign {

namespace {
std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}
std::vector<ThreadCpu>& registry() {
  static std::vector<ThreadCpu> totals;
  return totals;
}
std::vector<std::pair<std::string, double>>& waits() {
  static std::vector<std::pair<std::string, double>> totals;
  return totals;
}
}  // namespace

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

void note_thread_cpu(const char* role) {
  const double s = thread_cpu_seconds();
  std::lock_guard<std::mutex> lock(registry_mutex());
  for (ThreadCpu& t : registry())
    if (t.role == role) {
      t.seconds += s;
      ++t.threads;
      return;
    }
  registry().push_back(ThreadCpu{role, s, 1});
}

std::vector<ThreadCpu> noted_thread_cpu() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  return registry();
}

void note_wait(const char* what, double seconds) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  for (auto& [name, total] : waits())
    if (name == what) {
      total += seconds;
      return;
    }
  waits().emplace_back(what, seconds);
}

std::vector<std::pair<std::string, double>> noted_waits() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  return waits();
}

}  // namespace tokalign
