#include "util/cpus.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <thread>
#include <vector>

#include "util/error.h"
#include "util/file.h"

namespace tokalign {
namespace cpus {

namespace {

// A /proc or cgroup file's text; "" when it cannot be read (it is then passed over).
std::string read_or_empty(const std::string& path) {
  try {
    return read_file(path);
  } catch (const Error&) {
    return {};
  }
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    const size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool has_item(std::string_view list, std::string_view item) {
  for (std::string_view x : split(list, ','))
    if (x == item) return true;
  return false;
}

// A positive integer, or nothing (also for "max", "-1" and text that is not a number).
bool parse_positive(std::string_view s, uint64_t& v) {
  s = trim(s);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && v > 0;
}

// mountinfo escapes a space, tab, newline and backslash in a path as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Mount {
  std::string root, point;  // the part of the hierarchy mounted, and where
  bool v2 = false;
  std::string super_options;
};

std::vector<Mount> cgroup_mounts(std::string_view mountinfo) {
  std::vector<Mount> out;
  for (std::string_view line : split(mountinfo, '\n')) {
    const std::vector<std::string_view> f = split(trim(line), ' ');
    // id parent major:minor root point options [optional...] - fstype source super_options
    const auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
    if (dash - f.begin() < 6 || f.end() - dash < 4) continue;
    const std::string_view type = dash[1];
    if (type != "cgroup" && type != "cgroup2") continue;
    out.push_back(Mount{unescape(f[3]), unescape(f[4]), type == "cgroup2", std::string(dash[3])});
  }
  return out;
}

// CPUs the quota file(s) of one cgroup directory allow, rounded up; 0 for no quota.
size_t quota_in(const std::string& dir, bool v2) {
  uint64_t quota = 0, period = 0;
  if (v2) {
    // "max 100000" (no limit) or "QUOTA PERIOD", in microseconds
    const std::string text = read_or_empty(dir + "/cpu.max");
    const std::vector<std::string_view> f = split(trim(text), ' ');
    if (f.size() != 2 || !parse_positive(f[0], quota) || !parse_positive(f[1], period)) return 0;
  } else {
    // cpu.cfs_quota_us is -1 without a limit
    if (!parse_positive(read_or_empty(dir + "/cpu.cfs_quota_us"), quota) ||
        !parse_positive(read_or_empty(dir + "/cpu.cfs_period_us"), period))
      return 0;
  }
  return static_cast<size_t>(quota / period + (quota % period != 0));  // (both positive: at least 1)
}

}  // namespace

size_t affinity_cpus() {
  // A mask for up to 1,024 CPUs first, larger ones as the kernel asks (EINVAL: too small).
  for (size_t n = 1024; n <= (size_t{1} << 20); n *= 4) {
    cpu_set_t* set = CPU_ALLOC(n);
    if (!set) return 0;
    const size_t bytes = CPU_ALLOC_SIZE(n);
    CPU_ZERO_S(bytes, set);
    const int rc = sched_getaffinity(0, bytes, set);
    const size_t count = rc == 0 ? static_cast<size_t>(CPU_COUNT_S(bytes, set)) : 0;
    const int err = errno;
    CPU_FREE(set);
    if (rc == 0) return count;
    if (err != EINVAL) return 0;
  }
  return 0;
}

size_t cgroup_quota_cpus(std::string_view proc_self_cgroup, std::string_view mountinfo, const std::string& root) {
  const std::vector<Mount> mounts = cgroup_mounts(mountinfo);
  size_t best = 0;
  auto take = [&](size_t q) {
    if (q && (!best || q < best)) best = q;
  };
  for (std::string_view line : split(proc_self_cgroup, '\n')) {
    // hierarchy-id:controllers:path ("0::/path" for cgroup v2)
    line = trim(line);
    const size_t a = line.find(':');
    const size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1);
    const std::string_view path = line.substr(b + 1);
    const bool v2 = id == "0" && controllers.empty();
    if (!v2 && !has_item(controllers, "cpu")) continue;
    if (path.empty() || path[0] != '/') continue;
    for (const Mount& m : mounts) {
      if (m.v2 != v2 || (!v2 && !has_item(m.super_options, "cpu"))) continue;
      // The cgroup's place under the mount: its path less the mounted root.
      std::string_view rel = path;
      if (m.root != "/") {
        if (rel.substr(0, m.root.size()) != m.root || (rel.size() > m.root.size() && rel[m.root.size()] != '/')) continue;
        rel.remove_prefix(m.root.size());
      }
      const std::string top = root + m.point;
      std::string dir = top + std::string(rel == "/" ? std::string_view() : rel);
      // This cgroup's quota and every parent's up to the mount: the smallest one binds.
      for (;;) {
        take(quota_in(dir, v2));
        if (dir.size() <= top.size()) break;
        dir.resize(dir.rfind('/'));  // (rel starts with '/': never into top)
      }
    }
  }
  return best;
}

}  // namespace cpus

size_t available_cpus() {
  static const size_t n = [] {
    const unsigned online = std::thread::hardware_concurrency();
    size_t cpus = online ? online : 1;
    if (const size_t a = cpus::affinity_cpus()) cpus = std::min(cpus, a);
    const std::string cgroup = cpus::read_or_empty("/proc/self/cgroup");
    if (!cgroup.empty())
      if (const size_t q = cpus::cgroup_quota_cpus(cgroup, cpus::read_or_empty("/proc/self/mountinfo"))) cpus = std::min(cpus, q);
    return std::max<size_t>(cpus, 1);
  }();
  return n;
}

}  // namespace tokalign
