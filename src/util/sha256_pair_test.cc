// Sha256Pair against OpenSSL's SHA-256 of each stream alone (util/sha256.h): every length
// around the block and padding boundaries, fed in chunks of many sizes, on the interleaved
// path (where the CPU has the SHA extensions) and on the OpenSSL path.
#include "util/sha256_pair.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/test_support.h"

namespace tokalign {
namespace {

using testing_util::random_bytes;

// Feeds `a` and `b` (equally long) in chunks cycling through `chunks`; returns the digests.
std::pair<std::string, std::string> hash_in_chunks(bool interleave, const std::string& a, const std::string& b,
                                                   const std::vector<size_t>& chunks) {
  Sha256Pair h(interleave);
  size_t at = 0;
  for (size_t i = 0; at < a.size(); ++i) {
    const size_t n = std::min(chunks[i % chunks.size()], a.size() - at);
    h.update(std::string_view(a).substr(at, n), std::string_view(b).substr(at, n));
    at += n;
  }
  return h.hex();
}

void expect_openssl_digests(bool interleave) {
  const std::vector<std::vector<size_t>> chunkings = {{1u << 20}, {1}, {7, 64, 3}, {63, 65}, {128, 1, 200}, {4, 4, 4, 52}};
  for (size_t n = 0; n <= 300; ++n) {
    const std::string a = random_bytes(n, static_cast<uint32_t>(n));
    const std::string b = random_bytes(n, static_cast<uint32_t>(n + 1000));
    for (const auto& chunks : chunkings) {
      const auto [ha, hb] = hash_in_chunks(interleave, a, b, chunks);
      ASSERT_EQ(ha, sha256_hex(a)) << "length " << n << ", first stream";
      ASSERT_EQ(hb, sha256_hex(b)) << "length " << n << ", second stream";
    }
  }
  // Large, and two streams that are equal (the lanes must not mix either way).
  const std::string big = random_bytes((3u << 20) + 37, 7);
  const std::string other = random_bytes(big.size(), 8);
  EXPECT_EQ(hash_in_chunks(interleave, big, other, {(1u << 20) + 5, 4096}),
            std::make_pair(sha256_hex(big), sha256_hex(other)));
  EXPECT_EQ(hash_in_chunks(interleave, big, big, {1u << 20}), std::make_pair(sha256_hex(big), sha256_hex(big)));
}

TEST(Sha256Pair, InterleavedEqualsOpenSsl) {
  if (!Sha256Pair::interleave_available()) GTEST_SKIP() << "this CPU has no SHA extensions; the OpenSSL path is tested below";
  EXPECT_TRUE(Sha256Pair().interleaved());
  expect_openssl_digests(true);
}

TEST(Sha256Pair, OpenSslPathEqualsOpenSsl) {
  EXPECT_FALSE(Sha256Pair(false).interleaved());
  expect_openssl_digests(false);
}

TEST(Sha256Pair, UnequalLengthsAreRefused) {
  for (bool interleave : {true, false}) {
    Sha256Pair h(interleave);
    EXPECT_THROW(h.update("abc", "ab"), std::logic_error);
  }
}

}  // namespace
}  // namespace tokalign
