#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace tokalign::cli {

bool progress_wanted() { return isatty(fileno(stderr)) && !std::getenv("TOKALIGN_NO_PROGRESS"); }

Progress::Progress(std::string label, uint64_t input_bytes, bool enabled)
    : label_(std::move(label)), total_(input_bytes), enabled_(enabled) {
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { done(); }

void Progress::tick(uint64_t byte_offset, bool quarantined) {
  ++samples_;
  quarantined_ += quarantined;
  offset_ = byte_offset;
  if (!enabled_ || (samples_ & 255)) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  draw();
}

void Progress::draw() {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char line[256];
  int n = std::snprintf(line, sizeof line, "\r%s: %llu samples, %.0f/s, %llu quarantined", label_.c_str(),
                        static_cast<unsigned long long>(samples_), secs > 0 ? samples_ / secs : 0.0,
                        static_cast<unsigned long long>(quarantined_));
  if (total_ && offset_ && n > 0 && n < static_cast<int>(sizeof line)) {
    double share = static_cast<double>(offset_) / static_cast<double>(total_);
    if (share > 1) share = 1;
    long eta = share > 0 ? static_cast<long>(secs / share - secs) : 0;
    std::snprintf(line + n, sizeof line - n, ", %.0f%% of the input, %ld:%02ld left  ", share * 100, eta / 60, eta % 60);
  }
  std::fputs(line, stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::done() {
  if (!drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace tokalign::cli
