// Every controller writer, v1 and v2, against a fake cgroupfs: what lands
// in which file, and bad values refused with the field's name.
#include <gtest/gtest.h>

#include "cgroups/controllers.hpp"
#include "fake_cgroupfs.hpp"

namespace berth::cgroups {
namespace {

using testing::FakeCgroupFs;

// Asserts an error that names `field`.
#define EXPECT_FIELD_ERROR(expr, field)                                                     \
  do {                                                                                      \
    auto r_ = (expr);                                                                       \
    ASSERT_FALSE(r_.ok()) << "expected an error naming " << field;                          \
    EXPECT_NE(r_.error().message().find(field), std::string::npos) << r_.error().message(); \
  } while (0)

class Controllers : public ::testing::Test {
 protected:
  FakeCgroupFs fs;
  Dir dir(const std::string& rel) { return Dir(fs.path(rel)); }
};

// ---- memory ----
TEST_F(Controllers, MemoryV1) {
  fs.files("m", {"memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes",
                 "memory.swappiness", "memory.oom_control", "memory.kmem.tcp.limit_in_bytes"});
  fs.file("m/memory.limit_in_bytes", "1000\n");
  spec::MemoryResources m;
  m.limit = 4096;
  m.reservation = 2048;
  m.swap = 8192;
  m.swappiness = 10;
  m.disableOOMKiller = true;
  m.kernelTCP = 1 << 20;
  ASSERT_TRUE(setMemoryV1(dir("m"), m).ok());
  EXPECT_EQ(fs.read("m/memory.limit_in_bytes"), "4096");
  EXPECT_EQ(fs.read("m/memory.soft_limit_in_bytes"), "2048");
  EXPECT_EQ(fs.read("m/memory.memsw.limit_in_bytes"), "8192");  // v1 keeps memory+swap as is
  EXPECT_EQ(fs.read("m/memory.swappiness"), "10");
  EXPECT_EQ(fs.read("m/memory.oom_control"), "1");
  EXPECT_EQ(fs.read("m/memory.kmem.tcp.limit_in_bytes"), "1048576");
}

TEST_F(Controllers, MemoryV1Errors) {
  fs.files("m", {"memory.limit_in_bytes", "memory.swappiness"});
  spec::MemoryResources m;
  m.limit = -2;
  EXPECT_FIELD_ERROR(setMemoryV1(dir("m"), m), "linux.resources.memory.limit");
  m = {};
  m.swap = 8192;  // no memsw file: no swap accounting
  EXPECT_FIELD_ERROR(setMemoryV1(dir("m"), m), "linux.resources.memory.swap");
  m = {};
  m.swappiness = 101;
  EXPECT_FIELD_ERROR(setMemoryV1(dir("m"), m), "linux.resources.memory.swappiness");
  EXPECT_EQ(fs.read("m/memory.swappiness"), "");  // nothing written
}

TEST_F(Controllers, MemoryV2) {
  fs.files("m", {"memory.max", "memory.low", "memory.swap.max", "memory.current"});
  spec::MemoryResources m;
  m.limit = 4096;
  m.reservation = 1024;
  m.swap = 10000;
  ASSERT_TRUE(setMemoryV2(dir("m"), m).ok());
  EXPECT_EQ(fs.read("m/memory.max"), "4096");
  EXPECT_EQ(fs.read("m/memory.low"), "1024");
  EXPECT_EQ(fs.read("m/memory.swap.max"), "5904");  // swap - limit

  m = {};
  m.limit = -1;
  ASSERT_TRUE(setMemoryV2(dir("m"), m).ok());
  EXPECT_EQ(fs.read("m/memory.max"), "max");
  EXPECT_EQ(fs.read("m/memory.swap.max"), "max");  // unlimited memory, swap unset: both unlimited
}

TEST_F(Controllers, MemoryV2Errors) {
  fs.files("m", {"memory.max", "memory.low", "memory.swap.max"});
  fs.file("m/memory.current", "5000\n");
  spec::MemoryResources m;
  m.swappiness = 5;
  EXPECT_FIELD_ERROR(setMemoryV2(dir("m"), m), "linux.resources.memory.swappiness");
  m = {};
  m.limit = 100;
  m.swap = 50;
  EXPECT_FIELD_ERROR(setMemoryV2(dir("m"), m), "linux.resources.memory.swap");
  m = {};
  m.limit = 4096;
  m.checkBeforeUpdate = true;  // usage 5000 > 4096: refused as v1 would
  EXPECT_FIELD_ERROR(setMemoryV2(dir("m"), m), "linux.resources.memory.limit");
  EXPECT_EQ(fs.read("m/memory.max"), "");
  m.checkBeforeUpdate = false;
  EXPECT_TRUE(setMemoryV2(dir("m"), m).ok());
  EXPECT_EQ(fs.read("m/memory.max"), "4096");
}

// ---- cpu ----
TEST_F(Controllers, CpuV1) {
  fs.files("cpu", {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us", "cpu.rt_period_us",
                   "cpu.rt_runtime_us", "cpu.idle"});
  fs.files("cpuset", {"cpuset.cpus", "cpuset.mems"});
  spec::CpuResources c;
  c.shares = 512;
  c.quota = 50000;
  c.period = 100000;
  c.burst = 10000;
  c.realtimePeriod = 1000000;
  c.realtimeRuntime = 0;
  c.cpus = "0-1";
  c.mems = "0";
  ASSERT_TRUE(setCpuV1(dir("cpu"), dir("cpuset"), c).ok());
  EXPECT_EQ(fs.read("cpu/cpu.shares"), "512");
  EXPECT_EQ(fs.read("cpu/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(fs.read("cpu/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(fs.read("cpu/cpu.cfs_burst_us"), "10000");
  EXPECT_EQ(fs.read("cpu/cpu.rt_period_us"), "1000000");
  EXPECT_EQ(fs.read("cpu/cpu.rt_runtime_us"), "0");
  EXPECT_EQ(fs.read("cpuset/cpuset.cpus"), "0-1");
  EXPECT_EQ(fs.read("cpuset/cpuset.mems"), "0");
}

TEST_F(Controllers, CpuV2) {
  fs.files("c", {"cpu.weight", "cpu.max", "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems"});
  spec::CpuResources c;
  c.shares = 1024;
  c.quota = 50000;
  c.period = 100000;
  c.burst = 1000;
  c.idle = 1;
  c.cpus = "1";
  ASSERT_TRUE(setCpuV2(dir("c"), c).ok());
  EXPECT_EQ(fs.read("c/cpu.weight"), "39");
  EXPECT_EQ(fs.read("c/cpu.max"), "50000 100000");
  EXPECT_EQ(fs.read("c/cpu.max.burst"), "1000");
  EXPECT_EQ(fs.read("c/cpu.idle"), "1");
  EXPECT_EQ(fs.read("c/cpuset.cpus"), "1");

  c = {};
  c.quota = -1;
  ASSERT_TRUE(setCpuV2(dir("c"), c).ok());
  EXPECT_EQ(fs.read("c/cpu.max"), "max");
  c = {};
  c.period = 20000;  // a period alone: no quota
  ASSERT_TRUE(setCpuV2(dir("c"), c).ok());
  EXPECT_EQ(fs.read("c/cpu.max"), "max 20000");
}

TEST_F(Controllers, CpuErrors) {
  fs.files("c", {"cpu.weight", "cpu.max", "cpuset.cpus"});
  fs.files("v1", {"cpu.shares", "cpu.cfs_quota_us"});
  spec::CpuResources c;
  c.shares = 1;
  EXPECT_FIELD_ERROR(setCpuV2(dir("c"), c), "linux.resources.cpu.shares");
  c = {};
  c.quota = -7;
  EXPECT_FIELD_ERROR(setCpuV1(dir("v1"), Dir(), c), "linux.resources.cpu.quota");
  c = {};
  c.quota = 10000;
  c.burst = 20000;  // burst above quota
  EXPECT_FIELD_ERROR(setCpuV2(dir("c"), c), "linux.resources.cpu.burst");
  c = {};
  c.realtimeRuntime = 100;
  EXPECT_FIELD_ERROR(setCpuV2(dir("c"), c), "linux.resources.cpu.realtimeRuntime");
  c = {};
  c.cpus = "0-3; rm -rf";
  EXPECT_FIELD_ERROR(setCpuV2(dir("c"), c), "linux.resources.cpu.cpus");
  c = {};
  c.mems = "0";  // no cpuset hierarchy on v1
  EXPECT_FIELD_ERROR(setCpuV1(dir("v1"), Dir(), c), "linux.resources.cpu.mems");
  c = {};
  c.idle = 1;  // no cpu.idle file: kernel without it
  EXPECT_FIELD_ERROR(setCpuV1(dir("v1"), Dir(), c), "linux.resources.cpu.idle");
}

// ---- pids ----
TEST_F(Controllers, Pids) {
  fs.files("p", {"pids.max"});
  spec::PidsResources p;
  p.limit = 32;
  ASSERT_TRUE(setPidsV1(dir("p"), p).ok());
  EXPECT_EQ(fs.read("p/pids.max"), "32");
  p.limit = -1;
  ASSERT_TRUE(setPidsV2(dir("p"), p).ok());
  EXPECT_EQ(fs.read("p/pids.max"), "max");
  p.limit = 0;  // a real limit, as the spec says
  ASSERT_TRUE(setPidsV2(dir("p"), p).ok());
  EXPECT_EQ(fs.read("p/pids.max"), "0");
  p.limit = -3;
  EXPECT_FIELD_ERROR(setPidsV1(dir("p"), p), "linux.resources.pids.limit");
  EXPECT_FIELD_ERROR(setPidsV2(dir("nothing"), spec::PidsResources{5}), "linux.resources.pids.limit");
}

// ---- blkio / io ----
TEST_F(Controllers, BlkioV1) {
  fs.files("b", {"blkio.bfq.weight", "blkio.bfq.weight_device", "blkio.throttle.read_bps_device",
                 "blkio.throttle.write_iops_device"});
  spec::BlockIoResources b;
  b.weight = 300;
  b.weightDevice.push_back({8, 0, uint16_t{500}, std::nullopt});
  b.throttleReadBpsDevice.push_back({8, 16, 1048576});
  b.throttleWriteIOPSDevice.push_back({8, 0, 300});
  ASSERT_TRUE(setBlkioV1(dir("b"), b).ok());
  EXPECT_EQ(fs.read("b/blkio.bfq.weight"), "300");  // no CFQ blkio.weight here: BFQ's
  EXPECT_EQ(fs.read("b/blkio.bfq.weight_device"), "8:0 500");
  EXPECT_EQ(fs.read("b/blkio.throttle.read_bps_device"), "8:16 1048576");
  EXPECT_EQ(fs.read("b/blkio.throttle.write_iops_device"), "8:0 300");

  spec::BlockIoResources bad;
  bad.leafWeight = 100;  // no leaf_weight file on this "kernel"
  EXPECT_FIELD_ERROR(setBlkioV1(dir("b"), bad), "linux.resources.blockIO.leafWeight");
  bad = {};
  bad.weight = 5;
  EXPECT_FIELD_ERROR(setBlkioV1(dir("b"), bad), "linux.resources.blockIO.weight");
  bad = {};
  bad.throttleReadBpsDevice.push_back({-1, 0, 5});
  EXPECT_FIELD_ERROR(setBlkioV1(dir("b"), bad), "linux.resources.blockIO.throttleReadBpsDevice[0]");
}

TEST_F(Controllers, BlkioV2) {
  fs.files("io", {"io.weight", "io.max"});
  spec::BlockIoResources b;
  b.weight = 500;
  b.throttleWriteBpsDevice.push_back({259, 0, 2097152});
  ASSERT_TRUE(setBlkioV2(dir("io"), b).ok());
  EXPECT_EQ(fs.read("io/io.weight"), "4950");
  EXPECT_EQ(fs.read("io/io.max"), "259:0 wbps=2097152");

  fs.files("bfq", {"io.bfq.weight", "io.max"});
  b = {};
  b.weight = 500;
  b.throttleReadIOPSDevice.push_back({8, 0, 120});
  ASSERT_TRUE(setBlkioV2(dir("bfq"), b).ok());
  EXPECT_EQ(fs.read("bfq/io.bfq.weight"), "500");  // BFQ takes the v1 scale
  EXPECT_EQ(fs.read("bfq/io.max"), "8:0 riops=120");

  b = {};
  b.leafWeight = 100;
  EXPECT_FIELD_ERROR(setBlkioV2(dir("io"), b), "linux.resources.blockIO.leafWeight");
}

// ---- hugetlb ----
TEST_F(Controllers, Hugetlb) {
  fs.files("h1", {"hugetlb.2MB.limit_in_bytes", "hugetlb.2MB.rsvd.limit_in_bytes", "hugetlb.1GB.limit_in_bytes"});
  std::vector<spec::HugepageLimit> l = {{"2MB", 209715200}, {"1GB", 1073741824}};
  ASSERT_TRUE(setHugetlbV1(dir("h1"), l).ok());
  EXPECT_EQ(fs.read("h1/hugetlb.2MB.limit_in_bytes"), "209715200");
  EXPECT_EQ(fs.read("h1/hugetlb.2MB.rsvd.limit_in_bytes"), "209715200");
  EXPECT_EQ(fs.read("h1/hugetlb.1GB.limit_in_bytes"), "1073741824");

  fs.files("h2", {"hugetlb.2MB.max", "hugetlb.2MB.rsvd.max"});
  ASSERT_TRUE(setHugetlbV2(dir("h2"), {{"2MB", 4194304}}).ok());
  EXPECT_EQ(fs.read("h2/hugetlb.2MB.max"), "4194304");
  EXPECT_EQ(fs.read("h2/hugetlb.2MB.rsvd.max"), "4194304");
  EXPECT_FIELD_ERROR(setHugetlbV2(dir("h2"), {{"64KB", 1}}), "linux.resources.hugepageLimits[0].pageSize");
  EXPECT_FIELD_ERROR(setHugetlbV2(dir("h2"), {{"2MB", 1}, {"2mb", 1}}), "linux.resources.hugepageLimits[1].pageSize");
  // A file-name trick in pageSize is refused by the format check.
  EXPECT_FIELD_ERROR(setHugetlbV1(dir("h1"), {{"../2MB", 1}}), "linux.resources.hugepageLimits[0].pageSize");
}

// ---- devices (v1) ----
TEST_F(Controllers, DevicesV1) {
  fs.files("d", {"devices.allow", "devices.deny"});
  std::vector<spec::DeviceCgroup> rules(3);
  rules[0].allow = false;
  rules[0].access = "rwm";
  rules[1].allow = true;
  rules[1].type = "c";
  rules[1].major = 1;
  rules[1].minor = 3;
  rules[1].access = "rw";
  rules[2].allow = true;
  rules[2].type = "b";
  rules[2].major = 8;
  rules[2].access = "r";
  ASSERT_TRUE(setDevicesV1(dir("d"), rules).ok());
  // One write per rule, in order, through one open file each.
  EXPECT_EQ(fs.read("d/devices.deny"), "a *:* rwm\n");
  EXPECT_EQ(fs.read("d/devices.allow"), "c 1:3 rw\nb 8:* r\n");

  rules[1].access = "rwx";
  EXPECT_FIELD_ERROR(setDevicesV1(dir("d"), rules), "linux.resources.devices[1].access");
  rules[1].access = "rw";
  rules[1].type = "p";
  EXPECT_FIELD_ERROR(setDevicesV1(dir("d"), rules), "linux.resources.devices[1].type");
  rules[1].type = "c";
  rules[1].major = -9;
  EXPECT_FIELD_ERROR(setDevicesV1(dir("d"), rules), "linux.resources.devices[1].major");
  EXPECT_FIELD_ERROR(setDevicesV1(Dir(), {spec::DeviceCgroup{}}), "linux.resources.devices");
}

// ---- network, rdma, unified ----
TEST_F(Controllers, NetworkV1) {
  fs.files("cls", {"net_cls.classid"});
  fs.files("prio", {"net_prio.ifpriomap"});
  spec::NetworkResources n;
  n.classID = 1048577;
  n.priorities = {{"eth0", 500}};
  ASSERT_TRUE(setNetClsV1(dir("cls"), n).ok());
  ASSERT_TRUE(setNetPrioV1(dir("prio"), n).ok());
  EXPECT_EQ(fs.read("cls/net_cls.classid"), "1048577");
  EXPECT_EQ(fs.read("prio/net_prio.ifpriomap"), "eth0 500");
  // No such hierarchy (as on this host): an error naming the field.
  EXPECT_FIELD_ERROR(setNetClsV1(Dir(), n), "linux.resources.network.classID");
  EXPECT_FIELD_ERROR(setNetPrioV1(Dir(), n), "linux.resources.network.priorities");
  n.priorities = {{"eth 0", 1}};
  EXPECT_FIELD_ERROR(setNetPrioV1(dir("prio"), n), "linux.resources.network.priorities[0].name");
}

TEST_F(Controllers, Rdma) {
  fs.files("r", {"rdma.max"});
  std::map<std::string, spec::RdmaLimit> r;
  r["mlx5_1"] = {uint32_t{3}, std::nullopt};
  ASSERT_TRUE(setRdma(dir("r"), r).ok());
  EXPECT_EQ(fs.read("r/rdma.max"), "mlx5_1 hca_handle=3 hca_object=max");
  EXPECT_FIELD_ERROR(setRdma(Dir(), r), "linux.resources.rdma[mlx5_1]");
  r["mlx5_1"] = {};
  EXPECT_FIELD_ERROR(setRdma(dir("r"), r), "linux.resources.rdma[mlx5_1]");
}

TEST_F(Controllers, Unified) {
  fs.files("u", {"io.max", "memory.high", "cgroup.max.depth"});
  std::map<std::string, std::string> u = {{"memory.high", "100000"}, {"cgroup.max.depth", "3"}};
  ASSERT_TRUE(setUnified(dir("u"), u, {"memory", "io"}).ok());
  EXPECT_EQ(fs.read("u/memory.high"), "100000");
  EXPECT_EQ(fs.read("u/cgroup.max.depth"), "3");
  EXPECT_FIELD_ERROR(setUnified(dir("u"), {{"io.max", "8:0 rbps=1"}}, {"memory"}), "linux.resources.unified[io.max]");
  EXPECT_FIELD_ERROR(setUnified(dir("u"), {{"../io.max", "x"}}, {"io"}), "linux.resources.unified[../io.max]");
  EXPECT_FIELD_ERROR(setUnified(dir("u"), {{"memory.nope", "1"}}, {"memory"}),
                     "linux.resources.unified[memory.nope]");
  EXPECT_EQ(fs.read("u/io.max"), "");
}

// ---- stats ----
TEST_F(Controllers, StatsV2) {
  fs.file("s/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 2\n"
                        "throttled_usec 30\n");
  fs.file("s/memory.current", "4096\n");
  fs.file("s/memory.max", "max\n");
  fs.file("s/memory.stat", "anon 100\nfile 200\n");
  fs.file("s/pids.current", "3\n");
  fs.file("s/pids.max", "max\n");
  fs.file("s/io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n");
  fs.file("s/hugetlb.2MB.current", "0\n");
  fs.file("s/hugetlb.2MB.events", "max 4\n");
  Stats s;
  cpuStatsV2(dir("s"), s.cpu);
  memoryStatsV2(dir("s"), s.memory);
  pidsStatsV2(dir("s"), s.pids);
  blkioStatsV2(dir("s"), s.blkio);
  hugetlbStatsV2(dir("s"), s.hugetlb);
  EXPECT_EQ(s.cpu.usage.total, 1500000u);
  EXPECT_EQ(s.cpu.usage.kernel, 500000u);
  EXPECT_EQ(s.cpu.throttling.throttledPeriods, 2u);
  EXPECT_EQ(s.cpu.throttling.throttledTime, 30000u);
  EXPECT_EQ(s.memory.usage.usage, 4096u);
  EXPECT_EQ(s.memory.usage.limit, UINT64_MAX);
  EXPECT_EQ(s.memory.cache, 200u);
  EXPECT_EQ(s.pids.current, 3u);
  EXPECT_EQ(s.pids.limit, 0u);
  ASSERT_EQ(s.blkio.ioServiceBytesRecursive.size(), 2u);
  EXPECT_EQ(s.blkio.ioServiceBytesRecursive[1].op, "Write");
  EXPECT_EQ(s.blkio.ioServiceBytesRecursive[1].value, 200u);
  ASSERT_EQ(s.hugetlb.count("2MB"), 1u);
  EXPECT_EQ(s.hugetlb["2MB"].failcnt, 4u);
}

TEST_F(Controllers, StatsV1) {
  fs.file("cpuacct/cpuacct.usage", "123456\n");
  fs.file("cpuacct/cpuacct.usage_percpu", "100000 23456 \n");
  fs.file("cpu/cpu.stat", "nr_periods 5\nnr_throttled 1\nthrottled_time 999\n");
  fs.file("mem/memory.usage_in_bytes", "8192\n");
  fs.file("mem/memory.limit_in_bytes", "9223372036854771712\n");
  fs.file("mem/memory.failcnt", "2\n");
  fs.file("mem/memory.stat", "cache 4096\nrss 4096\n");
  fs.file("blk/blkio.throttle.io_service_bytes_recursive", "8:0 Read 512\n8:0 Write 1024\nTotal 1536\n");
  Stats s;
  cpuStatsV1(dir("cpu"), dir("cpuacct"), s.cpu);
  memoryStatsV1(dir("mem"), s.memory);
  blkioStatsV1(dir("blk"), s.blkio);
  EXPECT_EQ(s.cpu.usage.total, 123456u);
  EXPECT_EQ(s.cpu.usage.percpu, (std::vector<uint64_t>{100000, 23456}));
  EXPECT_EQ(s.cpu.throttling.throttledTime, 999u);
  EXPECT_EQ(s.memory.usage.usage, 8192u);
  EXPECT_EQ(s.memory.usage.failcnt, 2u);
  EXPECT_EQ(s.memory.cache, 4096u);
  ASSERT_EQ(s.blkio.ioServiceBytesRecursive.size(), 2u);
  EXPECT_EQ(s.blkio.ioServiceBytesRecursive[0].op, "Read");
  EXPECT_EQ(s.blkio.ioServiceBytesRecursive[0].value, 512u);
}

}  // namespace
}  // namespace berth::cgroups
