// The checksum of the data a compile reads and writes (the input, and every shard file):
// CRC-32 (util/crc32.h; the default, shard format version 2) or SHA-256 (util/sha256.h;
// `compile --checksum sha256`, format version 1). docs/shard-format.md says why CRC-32: the
// input's SHA-256 alone took a second for the 1.1 GB of LLaVA's 665k mixture, on one thread
// that every run then waited for, and the shard files' another 1-2 CPU seconds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/crc32.h"

namespace tokalign {

class Sha256;

enum class Checksum { crc32, sha256 };
// "crc32" or "sha256"; throws tokalign::Error naming the known ones otherwise.
Checksum parse_checksum(const std::string& name);
// The name, which is also the manifest's key for the value.
const char* checksum_name(Checksum c);

// One stream's checksum of either kind, incremental.
class Digest {
 public:
  explicit Digest(Checksum kind);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  void update(std::string_view data);
  // Lowercase hex (8 digits for CRC-32, 64 for SHA-256); finishes: call once.
  std::string hex();
  Checksum kind() const { return kind_; }

 private:
  Checksum kind_;
  Crc32 crc_;
  std::unique_ptr<Sha256> sha_;
};

// A file's checksum, read in chunks; throws tokalign::Error naming it when it cannot be read.
std::string checksum_file(const std::string& path, Checksum kind, uint64_t* size = nullptr);

}  // namespace tokalign
