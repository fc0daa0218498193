// The guard's incident log: one JSON object per line and event, appended and flushed as it
// happens (so a guard that is itself killed leaves a complete record), plus the readable
// lines of the summary printed at the end.
//
// Events: start, anomaly, warning, checkpoint_rejected, rollback, crash, give_up, exit.
// Every line has "time" (UTC, ISO 8601), "event" and "attempt" (the run, 1-based).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace tokalign::guard {

class IncidentEvent {
 public:
  IncidentEvent(std::string_view event, int attempt);
  IncidentEvent& str(std::string_view key, std::string_view value);
  IncidentEvent& num(std::string_view key, double value);  // NaN/Inf written as strings
  IncidentEvent& integer(std::string_view key, int64_t value);
  IncidentEvent& boolean(std::string_view key, bool value);
  std::string json() const { return body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_;
};

class IncidentLog {
 public:
  IncidentLog() = default;
  // Appends to path (created with its folder); throws tokalign::Error when it cannot.
  explicit IncidentLog(const std::string& path);
  ~IncidentLog();
  IncidentLog(const IncidentLog&) = delete;
  IncidentLog& operator=(const IncidentLog&) = delete;

  void write(const IncidentEvent& e);
  void summary_line(std::string line) { summary_.push_back(std::move(line)); }
  const std::vector<std::string>& summary() const { return summary_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<std::string> summary_;
};

}  // namespace tokalign::guard
