#include "util/file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <pthread.h>

#include "util/error.h"
#include "util/thread_cpu.h"

namespace tokalign {

std::string read_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::string out;
  if (std::fseek(f.get(), 0, SEEK_END) == 0) {
    long size = std::ftell(f.get());
    std::rewind(f.get());
    if (size > 0) {
      out.resize(static_cast<size_t>(size));
      size_t got = std::fread(out.data(), 1, out.size(), f.get());
      out.resize(got);
    }
  }
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) out.append(buf, n);
  if (std::ferror(f.get())) throw Error(path + ": read error: " + std::strerror(errno));
  return out;
}

BackgroundRemoval::BackgroundRemoval(std::vector<std::filesystem::path> paths) {
  if (paths.empty()) return;
  thread_ = std::thread([paths = std::move(paths)] {
    pthread_setname_np(pthread_self(), "tokalign-clean");
    std::error_code ignored;
    for (const std::filesystem::path& p : paths) std::filesystem::remove_all(p, ignored);
    note_thread_cpu("removing the old output");
  });
}

BackgroundRemoval& BackgroundRemoval::operator=(BackgroundRemoval&& other) noexcept {
  wait();
  thread_ = std::move(other.thread_);
  return *this;
}

}  // namespace tokalign
