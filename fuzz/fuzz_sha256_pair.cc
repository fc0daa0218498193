// libFuzzer target: two equally long streams and a chunking -> Sha256Pair (util/sha256_pair.h)
// on the interleaved path (where the CPU has the SHA extensions) and on the OpenSSL path.
// The input's first byte gives the number of chunk lengths that follow (each one byte, 0-255,
// cycled); the rest is cut in two halves, the two streams (an odd byte left over is dropped).
// Invariant: each path's two digests equal OpenSSL's SHA-256 of each stream alone.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "util/sha256.h"
#include "util/sha256_pair.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t n_chunks = std::min<size_t>(static_cast<uint8_t>(in[0]), size - 1);
  std::vector<size_t> chunks;
  for (size_t i = 0; i < n_chunks; ++i) chunks.push_back(static_cast<uint8_t>(in[1 + i]));
  if (chunks.empty()) chunks.push_back(64);
  const std::string_view rest = in.substr(1 + n_chunks);
  const std::string_view a = rest.substr(0, rest.size() / 2), b = rest.substr(rest.size() / 2, rest.size() / 2);
  const std::string want_a = tokalign::sha256_hex(a), want_b = tokalign::sha256_hex(b);
  for (bool interleave : {true, false}) {
    tokalign::Sha256Pair h(interleave);
    size_t at = 0;
    // Zero-length chunks are updates too; after a bounded number of them the rest goes at once.
    for (size_t i = 0; at < a.size() && i < 4 * a.size() + 8; ++i) {
      const size_t n = std::min(chunks[i % chunks.size()], a.size() - at);
      h.update(a.substr(at, n), b.substr(at, n));
      at += n;
    }
    h.update(a.substr(at), b.substr(at));
    const auto [got_a, got_b] = h.hex();
    if (got_a != want_a || got_b != want_b) std::abort();
  }
  return 0;
}
