#include "util/crc32.h"

#include <isa-l/crc.h>

namespace tokalign {

void Crc32::update(std::string_view data) {
  // crc32_gzip_refl takes and returns the CRC as zlib's crc32 does (the inversions inside),
  // so updates chain: the CRC of a + b is update(b) after update(a).
  if (!data.empty()) crc_ = crc32_gzip_refl(crc_, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string Crc32::hex() const {
  static const char* digits = "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = digits[(crc_ >> (28 - 4 * i)) & 15];
  return s;
}

}  // namespace tokalign
