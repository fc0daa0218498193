// Where compiled samples go: JSON Lines or the shard folder (docs/shard-format.md). Both
// keep input order, write quarantined samples with their reason, and reconcile the counts
// (in = out + quarantined) in what they write last.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "shard/sample.h"
#include "util/checksum.h"

namespace tokalign::shard {

// A sample that could not be compiled, and why (chat::Problem plus where it came from).
struct QuarantineRecord {
  std::string id;
  uint64_t index = 0;
  std::string file;
  uint64_t line = 0;
  uint64_t byte_offset = 0;
  std::string reason, field, message;
  std::string to_json() const;
};

// What the manifest records about the run besides the counts: JSON values, already encoded.
struct RunInfo {
  std::string tokenizer_json;  // {"path": ..., "files": [{"name", "sha256", "bytes"}]}
  std::string template_json;   // {"name": ..., "sha256": ...}
  std::string options_json;    // the options that shape ids and labels
  std::string sources_json;    // [{"path", "sha256", "bytes"}]
  std::string part_json;       // a part of a parted output (shard/parts.h): {"index", ...}; else empty
};

struct Counts {
  uint64_t in = 0, out = 0, quarantined = 0, tokens = 0, trained_tokens = 0, images = 0;
  uint64_t boundary_merge = 0, truncated = 0, special_in_content = 0;
  std::map<std::string, uint64_t> reasons;
};

class SampleWriter {
 public:
  virtual ~SampleWriter() = default;
  virtual void write(const Sample& s) = 0;
  // Writes `s` as write() does, for a caller done with its ids and labels: a writer may take
  // their vectors instead of copying them, leaving s.input_ids and s.labels emptied (with
  // other storage, or none). The shard writer's own threads then write them, and the calling
  // thread (the one that hands samples on in order, which every compile thread waits on)
  // never copies them.
  virtual void take(Sample& s) { write(s); }
  virtual void quarantine(const QuarantineRecord& q) = 0;
  // Closes the data files (flushed, and synced for a shard): what finish() does first, for a
  // caller that commits later (a parted run's part waiting for the input's hash). Nothing
  // more may be written; throws on I/O errors.
  virtual void seal() {}
  // Writes what comes last (the shard manifest) and closes everything; throws on I/O errors.
  virtual void finish(const RunInfo& info) = 0;
  const Counts& counts() const { return counts_; }

 protected:
  // `trained`: the sample's trained tokens (the shard writer counts them once for both uses).
  void count(const Sample& s, uint64_t trained);
  void count(const QuarantineRecord& q);
  Counts counts_;
};

// JSONL: one {"id", "input_ids", "labels", "images"} line per sample to `path` ("-" is
// stdout); quarantined samples to `quarantine_path`.
std::unique_ptr<SampleWriter> make_jsonl_writer(const std::string& path, const std::string& quarantine_path);
// The shard folder `dir` (created; must not hold a shard already unless `overwrite`). Each
// file is written and checksummed (`checksum`: the manifest's files.*, docs/shard-format.md;
// CRC-32 makes format version 2, SHA-256 version 1) on a thread of its own; `paired`: input_ids.bin and
// labels.bin, the two big files, on one thread (with SHA-256, hashed together,
// util/sha256_pair.h: 0.8 of the CPU time), at one thread's pace, which more than two compile
// threads outrun (`compile` pairs them for one or two compile threads, or one CPU); paired,
// they are written O_DIRECT where the file system takes it (no copy into the page cache).
// The same bytes either way.
std::unique_ptr<SampleWriter> make_shard_writer(const std::string& dir, bool overwrite, bool paired = false,
                                                Checksum checksum = Checksum::crc32);

// The counts as a JSON object (for the manifest and the command's summary).
std::string counts_json(const Counts& c);

}  // namespace tokalign::shard
