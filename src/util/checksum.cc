#include "util/checksum.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/error.h"
#include "util/sha256.h"

namespace tokalign {

Checksum parse_checksum(const std::string& name) {
  if (name == "crc32") return Checksum::crc32;
  if (name == "sha256") return Checksum::sha256;
  throw Error("checksum: \"" + name + "\" is not one of crc32, sha256");
}

const char* checksum_name(Checksum c) { return c == Checksum::sha256 ? "sha256" : "crc32"; }

Digest::Digest(Checksum kind) : kind_(kind) {
  if (kind_ == Checksum::sha256) sha_ = std::make_unique<Sha256>();
}

Digest::~Digest() = default;

void Digest::update(std::string_view data) {
  if (sha_) sha_->update(data);
  else crc_.update(data);
}

std::string Digest::hex() { return sha_ ? sha_->hex() : crc_.hex(); }

std::string checksum_file(const std::string& path, Checksum kind, uint64_t* size) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
  Digest h(kind);
  std::string buf(1 << 20, '\0');
  uint64_t total = 0;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
    h.update(std::string_view(buf.data(), n));
    total += n;
  }
  if (std::ferror(f.get())) throw Error(path + ": read error");
  if (size) *size = total;
  return h.hex();
}

}  // namespace tokalign
