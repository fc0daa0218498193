// libFuzzer target: arbitrary bytes as /proc/self/cgroup and /proc/self/mountinfo (split at the
// first NUL byte) -> cpus::cgroup_quota_cpus, with the cgroup tree under a folder that does not
// exist, so that every quota file read fails (what a mount point in the input names is never
// read from the real filesystem: a missing path component stops "..").
// Invariants: no crash, hang or sanitizer report; no quota is found where no file exists.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "util/cpus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string_view cgroup = in.substr(0, nul);
  const std::string_view mountinfo = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  if (tokalign::cpus::cgroup_quota_cpus(cgroup, mountinfo, "/nonexistent-tokalign-fuzz-root") != 0) std::abort();
  return 0;
}
