// Crc32 (ISA-L) against zlib's crc32, an independent implementation of the same CRC (the one
// Python's zlib.crc32 calls): every length around ISA-L's folding widths, fed in chunks of
// many sizes, and a large buffer; hex as Python formats it.
#include "util/crc32.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "util/test_support.h"

namespace tokalign {
namespace {

using testing_util::random_bytes;
using testing_util::zlib_crc32;

uint32_t in_chunks(const std::string& s, const std::vector<size_t>& chunks) {
  Crc32 c;
  size_t at = 0;
  for (size_t i = 0; at < s.size(); ++i) {
    const size_t n = std::min(chunks[i % chunks.size()], s.size() - at);
    c.update(std::string_view(s).substr(at, n));
    at += n;
  }
  return c.value();
}

TEST(Crc32, EqualsZlibForEveryLengthAndChunking) {
  const std::vector<std::vector<size_t>> chunkings = {{1u << 20},  {1},           {7, 64, 3},
                                                      {15, 17},   {128, 1, 200}, {256, 0, 5}};
  for (size_t n = 0; n <= 700; ++n) {
    const std::string s = random_bytes(n, static_cast<uint32_t>(n));
    for (const auto& chunks : chunkings) ASSERT_EQ(in_chunks(s, chunks), zlib_crc32(s)) << "length " << n;
  }
  const std::string big = random_bytes((5u << 20) + 37, 7);
  EXPECT_EQ(in_chunks(big, {(1u << 20) + 5, 4096}), zlib_crc32(big));
  EXPECT_EQ(in_chunks(std::string(1u << 20, '\0'), {1u << 20}), zlib_crc32(std::string(1u << 20, '\0')));
}

TEST(Crc32, HexIsEightLowercaseDigits) {
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    const std::string s = random_bytes(1000 + seed, seed);
    Crc32 c;
    c.update(s);
    EXPECT_EQ(c.hex(), testing_util::zlib_crc32_hex(s));
  }
  EXPECT_EQ(Crc32().hex(), "00000000");  // nothing hashed: the CRC of no bytes
}

}  // namespace
}  // namespace tokalign
