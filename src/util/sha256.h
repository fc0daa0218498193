// SHA-256 (OpenSSL's EVP), incremental, as lowercase hex. For shard checksums and the
// manifest's hashes of tokenizer, template and source files.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tokalign {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string hex();  // finishes; call once

 private:
  void* ctx_;
};

std::string sha256_hex(std::string_view data);
// A digest's bytes as lowercase hex.
std::string digest_hex(const unsigned char* digest, size_t n);
// Hashes a file in chunks; throws tokalign::Error naming it when it cannot be read.
std::string sha256_file(const std::string& path, uint64_t* size = nullptr);

}  // namespace tokalign
