#include "util/crc32.h"

#include <isa-l/crc.h>

#include "util/sha256.h"  // digest_hex

namespace tokalign {

void Crc32::update(std::string_view data) {
  // crc32_gzip_refl takes and returns the CRC as zlib's crc32 does (the inversions inside),
  // so updates chain: the CRC of a + b is update(b) after update(a).
  if (!data.empty()) crc_ = crc32_gzip_refl(crc_, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

std::string Crc32::hex() const {
  // Most significant byte first, as the number prints.
  const unsigned char b[4] = {static_cast<unsigned char>(crc_ >> 24), static_cast<unsigned char>(crc_ >> 16),
                              static_cast<unsigned char>(crc_ >> 8), static_cast<unsigned char>(crc_)};
  return digest_hex(b, 4);
}

}  // namespace tokalign
