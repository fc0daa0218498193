// Reading a shard folder back (docs/shard-format.md), for inspect and stats: the manifest is
// checked (format, version, record sizes, file sizes), the arrays are read whole.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shard/sample.h"
#include "shard/writer.h"

namespace tokalign::shard {

class ShardReader {
 public:
  // Throws tokalign::Error naming the file when the folder is not a complete shard.
  explicit ShardReader(const std::string& dir);
  size_t size() const { return n_; }
  Sample get(size_t i) const;
  // The quarantined samples, from quarantine.jsonl.
  const std::vector<QuarantineRecord>& quarantine() const { return quarantine_; }
  const std::string& dir() const { return dir_; }
  // The tokenizer path the shard was compiled with (manifest "tokenizer.path").
  const std::string& tokenizer_path() const { return tokenizer_path_; }

 private:
  std::string dir_, tokenizer_path_;
  std::string ids_, labels_, samples_, images_, strings_;
  size_t n_ = 0;
  std::vector<QuarantineRecord> quarantine_;
};

}  // namespace tokalign::shard
