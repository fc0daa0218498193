// libFuzzer target: arbitrary bytes as /proc/self/cgroup, /proc/self/mountinfo and the text
// of a cgroup's quota files (three parts split at NUL bytes) -> cpus::cgroup_quota_cpus.
// The quota text is written as cpu.max (v2) and as cpu.cfs_quota_us and cpu.cfs_period_us (v1,
// its first and second lines) in a temporary tree at sys/fs/cgroup and sys/fs/cgroup/cpu, which
// mount points in the input can name; only files of those three names are ever read.
// Invariants: no crash, hang or sanitizer report.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

#include "util/cpus.h"

namespace {

namespace fs = std::filesystem;

const fs::path& tree() {
  static const fs::path root = [] {
    const fs::path r = fs::temp_directory_path() / ("tokalign_fuzz_cgroup_" + std::to_string(::getpid()));
    fs::create_directories(r / "sys/fs/cgroup/cpu");
    return r;
  }();
  return root;
}

void write(const fs::path& p, std::string_view text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
}

std::string_view next_part(std::string_view& in) {
  const size_t nul = in.find('\0');
  const std::string_view part = in.substr(0, nul);
  in = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view cgroup = next_part(in), mountinfo = next_part(in), quota = next_part(in);
  const fs::path& r = tree();
  write(r / "sys/fs/cgroup/cpu.max", quota);
  const size_t nl = quota.find('\n');
  write(r / "sys/fs/cgroup/cpu/cpu.cfs_quota_us", quota.substr(0, nl));
  write(r / "sys/fs/cgroup/cpu/cpu.cfs_period_us", nl == std::string_view::npos ? std::string_view() : quota.substr(nl + 1));
  (void)tokalign::cpus::cgroup_quota_cpus(cgroup, mountinfo, r.string());
  return 0;
}
