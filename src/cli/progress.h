// A one-line progress display on a terminal: samples, rate, quarantined, share of the input
// and time left. Silent when stderr is not a terminal (logs stay clean); the command's final
// summary line is printed either way.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace tokalign::cli {

class Progress {
 public:
  // `label` starts the line; `input_bytes` (0: unknown) gives the share done and the ETA.
  Progress(std::string label, uint64_t input_bytes, bool enabled);
  ~Progress();
  // One sample handed on; `byte_offset` is where it started in the input.
  void tick(uint64_t byte_offset, bool quarantined);
  // Clears the line (before the summary).
  void done();

 private:
  void draw();
  std::string label_;
  uint64_t total_, offset_ = 0, samples_ = 0, quarantined_ = 0;
  bool enabled_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// Whether progress should show: stderr is a terminal and TOKALIGN_NO_PROGRESS is unset.
bool progress_wanted();

}  // namespace tokalign::cli
