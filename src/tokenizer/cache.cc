#include "tokenizer/cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "util/file.h"
#include "util/hash_map.h"

namespace tokalign::tok {

namespace {

constexpr std::string_view kMagic = "tokalign compiled tokenizer\n";
constexpr uint64_t kFormat = 1;
constexpr size_t kMinBytes = 1 << 20;  // smaller files load in a few milliseconds anyway

std::optional<std::string> cache_dir() {
  if (const char* off = std::getenv("TOKALIGN_NO_CACHE"); off && *off && std::string_view(off) != "0")
    return std::nullopt;
  if (const char* d = std::getenv("TOKALIGN_CACHE_DIR"); d && *d) return std::string(d);
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/tokalign";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/tokalign";
  return std::nullopt;
}

bool make_dirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> cache_path_for(std::string_view json_text, bool expensive) {
  if (json_text.size() < kMinBytes && !expensive) return std::nullopt;
  auto dir = cache_dir();
  if (!dir) return std::nullopt;
  char name[80];
  std::snprintf(name, sizeof name, "/%016llx%016llx-%zu.tkc",
                static_cast<unsigned long long>(hash_bytes(json_text)),
                static_cast<unsigned long long>(hash_bytes(json_text, 0x243F6A8885A308D3ull)), json_text.size());
  return *dir + name;
}

std::optional<CachedTokenizer> cache_read(const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) return std::nullopt;
  try {
    std::string blob = read_file(path);
    // [magic][payload][64-bit checksum of the payload]: a changed byte anywhere is caught.
    if (blob.size() < kMagic.size() + 8 || blob.compare(0, kMagic.size(), kMagic) != 0) return std::nullopt;
    std::string_view payload(blob.data() + kMagic.size(), blob.size() - kMagic.size() - 8);
    uint64_t sum;
    std::memcpy(&sum, blob.data() + blob.size() - 8, 8);
    if (sum != hash_bytes(payload)) return std::nullopt;
    BlobReader r(payload.data(), payload.size());
    if (r.u64() != kFormat) return std::nullopt;
    CachedTokenizer c;
    r.str(c.slim_json);
    std::string_view image = r.bytes();
    if (!r.done()) return std::nullopt;
    c.model = BpeModel::read_image(image);
    return c;
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable or corrupt: rebuild from the file
  }
}

void cache_write(const std::string& path, std::string_view slim_json, const BpeModel& model) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || !make_dirs(path.substr(0, slash))) return;
  std::string blob(kMagic);
  BlobWriter w(blob);
  w.u64(kFormat);
  w.str(slim_json);
  std::string image;
  model.write_image(image);
  w.str(image);
  w.u64(hash_bytes(std::string_view(blob).substr(kMagic.size())));
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return;
  bool ok = std::fwrite(blob.data(), 1, blob.size(), f) == blob.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) std::remove(tmp.c_str());
}

}  // namespace tokalign::tok
