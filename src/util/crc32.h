// CRC-32 with the polynomial of zlib, gzip, zip and PNG (Python's zlib.crc32), incremental.
// The shard files' default checksum (docs/shard-format.md).
//
// Why not SHA-256 there: a shard's checksums guard against a damaged or mixed copy, not
// against forgery (the manifest that holds them carries none of its own), and SHA-256 was the
// largest piece of work outside the compile loop: 2 GB of input_ids.bin and labels.bin for
// LLaVA's 665k mixture took some 1.6 CPU seconds to hash at 1-2 GB/s. Intel's ISA-L
// (libisal, Debian) computes this CRC by folding with carry-less multiplies at tens of GB/s
// where the data is in cache, as the shard writer's freshly filled buffers are; zlib's own
// crc32 runs at 1.4-4.5 GB/s on the project's VM.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tokalign {

class Crc32 {
 public:
  void update(std::string_view data);
  uint32_t value() const { return crc_; }
  // Eight lowercase hex digits, as Python's f"{zlib.crc32(data):08x}".
  std::string hex() const;

 private:
  uint32_t crc_ = 0;
};

}  // namespace tokalign
