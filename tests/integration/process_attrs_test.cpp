// Per-process attributes set by the init and inherited by the container's
// process, each read back from inside: personality, scheduler, I/O
// priority, CPU affinity, memory policy; and their bad values.
#include <unistd.h>

#include "harness.hpp"

namespace berth::it {
namespace {

using ProcessAttrs = RuntimeTest;

TEST_F(ProcessAttrs, Personality32BitShowsInUname) {
  config_["linux"]["personality"] = {{"domain", "LINUX32"}};
  ProcResult r = runSh("uname -m");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "i686");
}

TEST_F(ProcessAttrs, ControlWithoutPersonalityUnameIs64Bit) {
  ProcResult r = runSh("uname -m");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "x86_64");
}

TEST_F(ProcessAttrs, SchedulerBatchWithNice) {
  config_["process"]["scheduler"] = {{"policy", "SCHED_BATCH"}, {"nice", 7}};
  // /proc/<pid>/stat: field 19 is nice, field 41 the policy.
  ProcResult r = runSh("awk '{print $19, $41}' /proc/1/stat");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "7 3");
}

TEST_F(ProcessAttrs, SchedulerIdle) {
  // (Real-time policies need rt_runtime_us in the container's v1 cpu
  // cgroup, which is 0 for new cgroups here.)
  config_["process"]["scheduler"] = {{"policy", "SCHED_IDLE"}};
  ProcResult r = runSh("awk '{print $41}' /proc/1/stat");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "5");
}

TEST_F(ProcessAttrs, IoPriorityBestEffort) {
  config_["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_BE"}, {"priority", 6}};
  ProcResult r = runSh("ionice -p 1");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("best-effort"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("prio 6"), std::string::npos) << r.out;
}

TEST_F(ProcessAttrs, ExecCpuAffinityFinal) {
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs two CPUs";
  config_["process"]["execCPUAffinity"] = {{"initial", "0-1"}, {"final", "1"}};
  ProcResult r = runSh("grep Cpus_allowed_list /proc/1/status");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "Cpus_allowed_list:\t1");
}

TEST_F(ProcessAttrs, MemoryPolicyInterleave) {
  config_["linux"]["memoryPolicy"] = {{"mode", "MPOL_INTERLEAVE"}, {"nodes", "0"}};
  ProcResult r = runSh("grep -c interleave /proc/1/numa_maps");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_GT(std::stoi(trim(r.out)), 0) << r.out;
}

TEST_F(ProcessAttrs, MemoryPolicyOnAMissingNodeFailsCreate) {
  config_["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}, {"nodes", "63"}};
  ProcResult r = create(id_);
  EXPECT_EQ(r.status, 1);
  if (isBerth()) {
    EXPECT_NE(r.err.find("linux.memoryPolicy"), std::string::npos) << r.err;
  }
  expectNothingLeft(id_);
}

TEST_F(ProcessAttrs, TimeOffsetsShiftClocksInANewTimeNamespace) {
  if (!fs::exists("/proc/self/ns/time")) GTEST_SKIP() << "no time namespaces";
  config_["linux"]["namespaces"].push_back({{"type", "time"}});
  config_["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 1000}, {"nanosecs", 0}}},
                                     {"boottime", {{"secs", 86400 * 365}, {"nanosecs", 0}}}};
  // /proc/uptime follows CLOCK_BOOTTIME, so the boottime offset shows there.
  ProcResult r = runSh("cat /proc/uptime; awk '{print $1, $2}' /proc/self/timens_offsets");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("monotonic 1000\nboottime 31536000"), std::string::npos) << r.out;
  double uptime = std::stod(r.out);
  EXPECT_GT(uptime, 86400.0 * 365);
}

}  // namespace
}  // namespace berth::it
