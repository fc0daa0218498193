// How many CPUs this process may use, for "-j 0" (every core): the machine's count is not it
// on a shared node. A Slurm job step, `taskset`, `docker --cpuset-cpus` or `numactl` narrow the
// process's CPU affinity mask; `docker --cpus`, a Kubernetes CPU limit or systemd's CPUQuota
// cap its cgroup's CPU time instead. std::thread::hardware_concurrency() (get_nprocs in
// libstdc++) sees neither: a 16-CPU job on a 128-core node would start 96 workers on 16 CPUs.
//
// The same sources Rust's std::thread::available_parallelism and Go's runtime read (read for
// reference, not copied): sched_getaffinity, then the CPU quota of the process's cgroup and of
// every cgroup above it (cgroup v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us), the
// fewest CPUs winning, a fractional quota rounded up.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tokalign {

// The CPUs this process may use (at least 1): the fewest of its affinity mask, its cgroups'
// CPU quotas and the machine's online CPUs.
size_t available_cpus();

// The parts, exposed for tests.
namespace cpus {

// CPUs in the calling thread's affinity mask; 0 when it cannot be read.
size_t affinity_cpus();

// The CPU quota of the cgroups a process is in, in whole CPUs rounded up; 0 for none. Reads
// `proc_self_cgroup` and `mountinfo` (the text of /proc/self/cgroup and /proc/self/mountinfo)
// and the quota files under each cgroup's directory, with `root` put before every mount point
// (tests build a cgroup tree in a temporary folder; "" for the real one). Lines or files it
// cannot make sense of are passed over: a quota only ever lowers the count.
size_t cgroup_quota_cpus(std::string_view proc_self_cgroup, std::string_view mountinfo, const std::string& root = "");

}  // namespace cpus
}  // namespace tokalign
