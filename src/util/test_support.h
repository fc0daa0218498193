// For tests: seeded random bytes, and the CRC-32 that zlib computes (the independent
// implementation the shard checksums are checked against: the one Python's zlib.crc32 calls).
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>

namespace tokalign::testing_util {

// The same bytes on every run.
inline std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

inline uint32_t zlib_crc32(std::string_view s) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  for (size_t at = 0; at < s.size(); at += size_t{1} << 30) {
    const size_t n = std::min(s.size() - at, size_t{1} << 30);  // (zlib takes 32-bit lengths)
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(s.data() + at), static_cast<uInt>(n));
  }
  return static_cast<uint32_t>(crc);
}

// As Python's f"{zlib.crc32(data):08x}".
inline std::string zlib_crc32_hex(std::string_view s) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", zlib_crc32(s));
  return hex;
}

}  // namespace tokalign::testing_util
