#include "guard/incident_log.h"

#include <cmath>
#include <ctime>
#include <filesystem>

#include "util/error.h"
#include "util/json_write.h"

namespace tokalign::guard {

IncidentEvent::IncidentEvent(std::string_view event, int attempt) {
  char stamp[32];
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  body_ = "{\"time\":\"";
  body_ += stamp;
  body_ += "\",\"event\":";
  append_json_string(body_, event);
  body_ += ",\"attempt\":" + std::to_string(attempt);
}

void IncidentEvent::key(std::string_view k) {
  body_ += ',';
  append_json_string(body_, k);
  body_ += ':';
}

IncidentEvent& IncidentEvent::str(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(body_, value);
  return *this;
}

IncidentEvent& IncidentEvent::num(std::string_view k, double value) {
  key(k);
  if (std::isnan(value)) {
    body_ += "\"NaN\"";
  } else if (std::isinf(value)) {
    body_ += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", value);
    body_ += buf;
  }
  return *this;
}

IncidentEvent& IncidentEvent::integer(std::string_view k, int64_t value) {
  key(k);
  body_ += std::to_string(value);
  return *this;
}

IncidentEvent& IncidentEvent::boolean(std::string_view k, bool value) {
  key(k);
  body_ += value ? "true" : "false";
  return *this;
}

IncidentLog::IncidentLog(const std::string& path) : path_(path) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) throw Error("cannot open the incident log " + path + " for appending");
}

IncidentLog::~IncidentLog() {
  if (file_) std::fclose(file_);
}

void IncidentLog::write(const IncidentEvent& e) {
  if (!file_) return;
  std::string line = e.json();
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace tokalign::guard
