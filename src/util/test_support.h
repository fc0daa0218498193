// For tests: seeded random bytes, the CRC-32 that zlib computes (the independent
// implementation the shard checksums are checked against: the one Python's zlib.crc32 calls),
// and a FILE holding a test's text.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
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

using File = std::unique_ptr<FILE, int (*)(FILE*)>;

// `text` as a file: in memory, or with `on_disk` a temporary file (one that
// RecordStream::Options::map can map; an empty text is always one: fmemopen takes no empty
// buffer). The text must outlive an in-memory file. Closed when it goes out of scope, also when
// a read throws: a test of broken inputs that left its files open ran out of descriptors when
// repeated (--gtest_repeat).
inline File text_file(const std::string& text, bool on_disk = false) {
  FILE* f = nullptr;
  if (text.empty() || on_disk) {
    f = std::tmpfile();
    if (f && (std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fflush(f) != 0)) {
      std::fclose(f);
      f = nullptr;
    }
    if (f) std::rewind(f);
  } else {
    f = fmemopen(const_cast<char*>(text.data()), text.size(), "r");
  }
  if (!f) throw std::runtime_error(std::string("a test cannot make a file of its text: ") + std::strerror(errno));
  return File(f, &std::fclose);
}

}  // namespace tokalign::testing_util
