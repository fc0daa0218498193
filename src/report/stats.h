// Dataset statistics, accumulated one sample at a time (memory: a few integers per sample):
// counts, distributions of tokens / trained tokens / turns / images per sample, quarantine
// reasons, special strings found in message text, boundary merges; rendered as a table,
// JSON or an HTML page with inline SVG histograms. Conditions like "zero-trained>0" turn
// them into a pass/fail gate for training scripts.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shard/sample.h"

namespace tokalign::report {

struct Distribution {
  uint64_t n = 0;
  double min = 0, max = 0, mean = 0, median = 0, p95 = 0, p99 = 0;
  struct Bin {
    double from, to;
    uint64_t count;
  };
  std::vector<Bin> histogram;
  static Distribution of(std::vector<uint32_t> values, size_t bins = 12);
};

class Stats {
 public:
  explicit Stats(size_t max_len = 0) : max_len_(max_len) {}
  // A compiled sample; `turns` is its number of messages (0 when unknown, e.g. from a shard).
  void add(const shard::Sample& s, uint32_t turns);
  void add_quarantined(const std::string& reason);
  // Every sample and quarantine record of a compiled shard folder, or of each part of a parted
  // output in order (shard::output_shards); throws tokalign::Error for a folder that is neither.
  void add_shard(const std::string& path);

  std::string table() const;
  std::string json() const;
  std::string html(const std::string& title) const;

  // Evaluates "NAME OP NUMBER" (OP one of > >= < <= == !=; NAME like zero-trained,
  // quarantined, over-max-len, trained-fraction; '-' and '_' alike). Sets `value`; throws
  // tokalign::Error for an unknown name or a malformed condition.
  bool holds(const std::string& condition, double& value) const;
  // The metric names holds() knows.
  static std::vector<std::string> metric_names();

 private:
  double metric(const std::string& name) const;
  size_t max_len_;
  uint64_t in_ = 0, out_ = 0, quarantined_ = 0, tokens_ = 0, trained_ = 0;
  uint64_t over_max_len_ = 0, boundary_merge_ = 0, truncated_ = 0, special_in_content_ = 0, image_slots_ = 0;
  std::map<std::string, uint64_t> reasons_, special_strings_;
  std::vector<uint32_t> lengths_, trained_per_, turns_, images_;
  // With a vision policy (compile --vision): positions per image, and each sample's length
  // with its images counted.
  std::vector<uint32_t> image_tokens_, lengths_with_images_;
  bool turns_known_ = false;
};

}  // namespace tokalign::report
