// Digest and checksum_file, of either kind, against the independent implementations: zlib's
// crc32 and OpenSSL's SHA-256 (sha256_hex); parse_checksum's names and its error.
#include "util/checksum.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "util/error.h"
#include "util/sha256.h"
#include "util/test_support.h"

namespace tokalign {
namespace {

using testing_util::zlib_crc32_hex;

TEST(Checksum, DigestOfEitherKindInPieces) {
  const std::string s = testing_util::random_bytes(3u << 20, 5);
  for (Checksum kind : {Checksum::crc32, Checksum::sha256}) {
    Digest d(kind);
    EXPECT_EQ(d.kind(), kind);
    for (size_t at = 0; at < s.size(); at += 100003) d.update(std::string_view(s).substr(at, 100003));
    EXPECT_EQ(d.hex(), kind == Checksum::crc32 ? zlib_crc32_hex(s) : sha256_hex(s)) << checksum_name(kind);
  }
}

TEST(Checksum, FileOfEitherKindWithItsSize) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("tokalign-checksum-" + std::to_string(::getpid()));
  std::string s;
  for (int i = 0; i < 200000; ++i) s += std::to_string(i * 7919) + ",";  // past the 1 MiB read chunk
  std::ofstream(path, std::ios::binary) << s;
  uint64_t bytes = 0;
  EXPECT_EQ(checksum_file(path.string(), Checksum::crc32, &bytes), zlib_crc32_hex(s));
  EXPECT_EQ(bytes, s.size());
  EXPECT_EQ(checksum_file(path.string(), Checksum::sha256), sha256_hex(s));
  std::filesystem::remove(path);
  EXPECT_THROW(checksum_file(path.string(), Checksum::crc32), Error);
}

TEST(Checksum, Names) {
  for (Checksum kind : {Checksum::crc32, Checksum::sha256}) EXPECT_EQ(parse_checksum(checksum_name(kind)), kind);
  EXPECT_STREQ(checksum_name(Checksum::crc32), "crc32");
  try {
    parse_checksum("md5");
    FAIL() << "md5 was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not one of crc32, sha256"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tokalign
