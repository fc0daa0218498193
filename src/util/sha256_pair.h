// Two SHA-256 digests of two streams fed in step: the same number of bytes at every update (a
// shard's input_ids.bin and labels.bin, which hold one int32 per token each).
//
// Why hand-written: SHA-256 is a chain. Each of a block's 64 rounds needs the previous one's
// result, and each block the previous block's, so one stream keeps the CPU's SHA unit waiting
// on its own latency, however fast the implementation (OpenSSL's SHA-NI code included). Two
// independent streams interleaved in one loop fill those gaps: two streams hashed together take
// 0.8 of the time of hashing them one after the other with OpenSSL where the data is in the
// CPU's caches (as the shard writer's freshly filled buffers are) and 0.6 from memory (the
// project's VM, Intel SHA extensions; bench/sha256_pair_bench). OpenSSL has no call that
// hashes two streams at once.
//
// With the SHA extensions (x86-64 SHA-NI, checked at run time) the two run interleaved here;
// without them, as two OpenSSL digests. Either way the digests equal OpenSSL's (tested on both
// paths, util/sha256_pair_test.cc).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "util/sha256.h"

namespace tokalign {

class Sha256Pair {
 public:
  // interleave = false keeps to OpenSSL even where the SHA extensions are there (for tests).
  explicit Sha256Pair(bool interleave = true);
  ~Sha256Pair();
  Sha256Pair(const Sha256Pair&) = delete;
  Sha256Pair& operator=(const Sha256Pair&) = delete;

  // Adds `a` to the first stream and `b` to the second; throws std::logic_error unless they
  // are equally long.
  void update(std::string_view a, std::string_view b);
  // Finishes both; call once. Lowercase hex, as Sha256::hex.
  std::pair<std::string, std::string> hex();

  bool interleaved() const { return lanes_ != nullptr; }
  // Whether this CPU has what the interleaved path needs.
  static bool interleave_available();

 private:
  struct Lanes;
  std::unique_ptr<Lanes> lanes_;        // the interleaved path
  std::unique_ptr<Sha256> a_, b_;       // OpenSSL's
};

}  // namespace tokalign
