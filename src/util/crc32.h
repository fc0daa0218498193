// CRC-32 with the polynomial of zlib, gzip, zip and PNG (Python's zlib.crc32), incremental:
// the default checksum of a compile's input and shard files (util/checksum.h says why).
// Intel's ISA-L (libisal, Debian) computes it by folding with carry-less multiplies, at tens
// of GB/s where the data is in cache, as the shard writer's freshly filled buffers are;
// zlib's own crc32 runs at 1.4-4.5 GB/s on the project's VM (bench/checksum_bench.cc).
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
