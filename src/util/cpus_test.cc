// available_cpus and its parts: the affinity mask as the kernel reports it after narrowing it,
// and cgroup CPU quotas read from cgroup trees built in a temporary folder (v2 cpu.max, v1
// cpu.cfs_quota_us / cpu.cfs_period_us), with the /proc/self/cgroup and mountinfo lines that
// point at them.
#include "util/cpus.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace tokalign {
namespace {

namespace fs = std::filesystem;

class CgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("tokalign_cpus_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  // Writes `text` to the file at `rel` under the tree, making its folders.
  void put(const std::string& rel, const std::string& text) {
    const fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  size_t quota(const std::string& cgroup, const std::string& mountinfo) {
    return cpus::cgroup_quota_cpus(cgroup, mountinfo, root_.string());
  }
  fs::path root_;
};

// A cgroup2 mount at /sys/fs/cgroup, as systemd makes it.
const std::string kV2Mount =
    "24 1 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
// Hybrid v1: the cpu and cpuacct controllers mounted together, and one without cpu.
const std::string kV1Mounts =
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup cgroup rw,memory\n";

TEST_F(CgroupTree, V2QuotaRoundsUpAndTheStrictestAncestorWins) {
  put("sys/fs/cgroup/job/step/cpu.max", "250000 100000\n");  // 2.5 CPUs -> 3
  put("sys/fs/cgroup/job/cpu.max", "max 100000\n");         // no limit above it
  EXPECT_EQ(quota("0::/job/step\n", kV2Mount), 3u);
  put("sys/fs/cgroup/job/cpu.max", "200000 100000\n");      // the job allows 2
  EXPECT_EQ(quota("0::/job/step\n", kV2Mount), 2u);
  put("sys/fs/cgroup/job/step/cpu.max", "max 100000\n");
  put("sys/fs/cgroup/job/cpu.max", "max 100000\n");
  EXPECT_EQ(quota("0::/job/step\n", kV2Mount), 0u) << "no quota anywhere";
  put("sys/fs/cgroup/job/step/cpu.max", "5000 100000\n");   // a twentieth of a CPU is still one
  EXPECT_EQ(quota("0::/job/step\n", kV2Mount), 1u);
  put("sys/fs/cgroup/job/step/cpu.max", "18446744073709551615 2\n");  // no overflow rounding up
  EXPECT_EQ(quota("0::/job/step\n", kV2Mount), size_t{9223372036854775808u});
}

TEST_F(CgroupTree, V2AtTheRootOfACgroupNamespace) {
  // Inside a container with its own cgroup namespace the process's cgroup is "/".
  put("sys/fs/cgroup/cpu.max", "400000 100000\n");
  EXPECT_EQ(quota("0::/\n", kV2Mount), 4u);
}

TEST_F(CgroupTree, V1CpuControllerQuota) {
  put("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "150000\n");
  put("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  const std::string cgroup = "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n";
  EXPECT_EQ(quota(cgroup, kV1Mounts), 2u);
  put("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
  EXPECT_EQ(quota(cgroup, kV1Mounts), 0u) << "-1 is no limit";
}

TEST_F(CgroupTree, V1MountedAtTheCgroupItself) {
  // Docker without cgroup namespaces mounts the container's own cgroup (root /docker/abc).
  const std::string mounts =
      "40 31 0:29 /docker/abc /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n";
  put("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "300000\n");
  put("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(quota("3:cpu:/docker/abc\n", mounts), 3u);
  EXPECT_EQ(quota("3:cpu:/elsewhere\n", mounts), 0u) << "a cgroup outside the mounted part cannot be read";
}

TEST_F(CgroupTree, EscapedMountPoint) {
  const std::string mounts = "24 1 0:22 / /sys/fs/cg\\040root rw - cgroup2 cgroup2 rw\n";
  put("sys/fs/cg root/a/cpu.max", "100000 100000\n");
  EXPECT_EQ(quota("0::/a\n", mounts), 1u);
}

TEST_F(CgroupTree, WhatItCannotReadLowersNothing) {
  put("sys/fs/cgroup/a/cpu.max", "lots 100000\n");
  EXPECT_EQ(quota("0::/a\n", kV2Mount), 0u);
  put("sys/fs/cgroup/a/cpu.max", "100000 0\n");
  EXPECT_EQ(quota("0::/a\n", kV2Mount), 0u) << "a zero period";
  put("sys/fs/cgroup/a/cpu.max", "100000\n");
  EXPECT_EQ(quota("0::/a\n", kV2Mount), 0u) << "one field";
  EXPECT_EQ(quota("0::/missing\n", kV2Mount), 0u);
  EXPECT_EQ(quota("", kV2Mount), 0u);
  EXPECT_EQ(quota("0::/a\n", ""), 0u) << "no cgroup mount";
  EXPECT_EQ(quota("garbage\n::\n0::relative\n", kV2Mount + "short line\n- cgroup2\n"), 0u);
  EXPECT_EQ(quota("0::/a\n", kV1Mounts), 0u) << "a v2 cgroup is not read through a v1 mount";
}

TEST(Cpus, AffinityMaskIsCounted) {
  // Narrowed to one CPU of those it has, in a thread of its own, the mask counts 1.
  const size_t all = cpus::affinity_cpus();
  ASSERT_GE(all, 1u);
  size_t narrowed = 0;
  std::thread t([&] {
    cpu_set_t set;
    ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    int first = -1;
    for (int c = 0; c < CPU_SETSIZE && first < 0; ++c)
      if (CPU_ISSET(c, &set)) first = c;
    ASSERT_GE(first, 0);
    CPU_ZERO(&set);
    CPU_SET(first, &set);
    ASSERT_EQ(sched_setaffinity(0, sizeof set, &set), 0);
    narrowed = cpus::affinity_cpus();
  });
  t.join();
  EXPECT_EQ(narrowed, 1u);
  EXPECT_EQ(cpus::affinity_cpus(), all) << "the other threads keep their mask";
}

TEST(Cpus, AvailableIsWithinTheMachineAndTheMask) {
  const size_t n = available_cpus();
  EXPECT_GE(n, 1u);
  const unsigned online = std::thread::hardware_concurrency();
  if (online) {
    EXPECT_LE(n, online);
  }
  if (const size_t a = cpus::affinity_cpus()) {
    EXPECT_LE(n, a);
  }
}

}  // namespace
}  // namespace tokalign
