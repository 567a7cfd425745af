// The managers on a fake cgroupfs (create, rollback, saved state, missing
// controllers), and the v2 device program run by a tiny BPF interpreter.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "cgroups/controllers.hpp"
#include "cgroups/manager.hpp"
#include "fake_cgroupfs.hpp"

namespace berth::cgroups {
namespace {

using testing::FakeCgroupFs;

// A v1/hybrid fake: each hierarchy root has cgroup.procs; cpuset has values.
void makeV1Fake(const FakeCgroupFs& fs, bool hybrid) {
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio"})
    fs.file(std::string(c) + "/cgroup.procs");
  fs.file("cpuset/cpuset.cpus", "0-1\n");
  fs.file("cpuset/cpuset.mems", "0\n");
  if (hybrid) {
    fs.file("unified/cgroup.procs");
    fs.file("unified/cgroup.controllers", "hugetlb\n");
    fs.file("unified/cgroup.subtree_control", "");
  }
}

TEST(FakeManager, HybridCreateMakesEveryHierarchy) {
  FakeCgroupFs fs;
  makeV1Fake(fs, true);
  auto m = Manager::make(Layout::Hybrid, fs.root(), "/berth/c1");
  ASSERT_TRUE(m.ok()) << m.error().message();
  auto st = (*m)->create();
  ASSERT_TRUE(st.ok()) << st.error().message();
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "freezer", "devices", "blkio", "unified"})
    EXPECT_TRUE(fs.exists(std::string(c) + "/berth/c1")) << c;
  EXPECT_EQ((*m)->pathFor("pids"), fs.path("pids/berth/c1"));
  EXPECT_EQ((*m)->pathFor("unified"), fs.path("unified/berth/c1"));
  EXPECT_EQ((*m)->pathFor("net_cls"), "");
  EXPECT_GE((*m)->cloneIntoFd(), 0) << "hybrid: the unified cgroup, for CLONE_INTO_CGROUP";
}

TEST(FakeManager, HybridSelfJoinOpensTasksAndTheUnifiedDir) {
  FakeCgroupFs fs;
  makeV1Fake(fs, true);
  auto m = Manager::make(Layout::Hybrid, fs.root(), "/berth/c1");
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->create().ok());
  // No `tasks` yet (a real cgroupfs makes it with the directory): a clear error.
  auto missing = (*m)->openTasksFiles();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("/tasks"), std::string::npos) << missing.error().message();
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio"})
    fs.file(std::string(c) + "/berth/c1/tasks");
  auto tasks = (*m)->openTasksFiles();
  ASSERT_TRUE(tasks.ok()) << tasks.error().message();
  EXPECT_EQ(tasks->size(), 8u) << "every v1 hierarchy";
  EXPECT_GE((*m)->cloneIntoFd(), 0) << "the unified part comes from clone3";
}

// The container's cgroup mount is built from this view (no mountinfo read in
// the init): one entry per hierarchy, co-mounted controllers under their real
// directory with the controllers a fresh mount names, the named systemd
// hierarchy as name=systemd, and the unified one as cgroup2.
TEST(FakeManager, ContainerViewGroupsCoMountedControllers) {
  FakeCgroupFs fs;
  fs.file("cpu,cpuacct/cgroup.procs");
  std::filesystem::create_directory_symlink("cpu,cpuacct", fs.path("cpu"));
  std::filesystem::create_directory_symlink("cpu,cpuacct", fs.path("cpuacct"));
  fs.file("pids/cgroup.procs");
  fs.file("systemd/cgroup.procs");
  fs.file("unified/cgroup.procs");
  fs.file("unified/cgroup.controllers", "");
  auto m = Manager::make(Layout::Hybrid, fs.root(), "/berth/c1");
  ASSERT_TRUE(m.ok()) << m.error().message();
  std::map<std::string, std::pair<std::string, std::string>> got;  // name -> (hostDir, controllers)
  for (const auto& h : (*m)->containerView()) {
    EXPECT_EQ(got.count(h.name), 0u) << "one entry per hierarchy: " << h.name;
    got[h.name] = {h.hostDir, h.controllers};
  }
  ASSERT_EQ(got.size(), 4u);
  ASSERT_TRUE(got.count("cpu,cpuacct"));
  EXPECT_EQ(got["cpu,cpuacct"].second, "cpu,cpuacct");
  EXPECT_EQ(std::filesystem::canonical(fs.root()).string() + "/cpu,cpuacct/berth/c1",
            std::filesystem::weakly_canonical(got["cpu,cpuacct"].first).string());
  EXPECT_EQ(got["pids"], std::make_pair(fs.path("pids/berth/c1"), std::string("pids")));
  EXPECT_EQ(got["systemd"], std::make_pair(fs.path("systemd/berth/c1"), std::string("name=systemd")));
  EXPECT_EQ(got["unified"], std::make_pair(fs.path("unified/berth/c1"), std::string()));

  auto v2 = Manager::make(Layout::V2, fs.root(), "/berth/c1");
  ASSERT_TRUE(v2.ok());
  EXPECT_TRUE((*v2)->containerView().empty()) << "cgroup2 mounts need no view";
}

// A controller's directory on the cgroup tmpfs's own device with no
// cgroup.procs is a hierarchy unmounted (moved to v2, say): neither created
// nor shown to the container.
TEST(FakeManager, AnEmptyControllerDirectoryIsNoHierarchy) {
  FakeCgroupFs fs;
  fs.file("memory/cgroup.procs");
  fs.dir("pids");
  auto m = Manager::make(Layout::V1, fs.root(), "/berth/c9");
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ((*m)->pathFor("pids"), "");
  EXPECT_EQ((*m)->pathFor("memory"), fs.path("memory/berth/c9"));
  const auto view = (*m)->containerView();
  ASSERT_EQ(view.size(), 1u);
  EXPECT_EQ(view[0].name, "memory");
  ASSERT_TRUE((*m)->create().ok());
  EXPECT_FALSE(fs.exists("pids/berth"));
  EXPECT_TRUE(fs.exists("memory/berth/c9"));
  EXPECT_TRUE((*m)->destroy().ok());
}

// createForClone makes only the unified part (clone3 needs it), createRest
// the v1 hierarchies; together they are create().
TEST(FakeManager, HybridCreateInTwoParts) {
  FakeCgroupFs fs;
  makeV1Fake(fs, true);
  auto m = Manager::make(Layout::Hybrid, fs.root(), "/berth/c3");
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->createForClone().ok());
  EXPECT_TRUE(fs.exists("unified/berth/c3"));
  EXPECT_GE((*m)->cloneIntoFd(), 0);
  EXPECT_FALSE(fs.exists("pids/berth/c3"));
  ASSERT_TRUE((*m)->createRest().ok());
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio"})
    EXPECT_TRUE(fs.exists(std::string(c) + "/berth/c3")) << c;
}

// startCreateRest (before the clone) submits the leaves to io_uring; where a
// parent is missing (here: every hierarchy but pids and memory) createRest
// falls back to making the whole path. Either way the result is create()'s.
TEST(FakeManager, CreateRestStartedEarlyMakesTheSameCgroups) {
  FakeCgroupFs fs;
  makeV1Fake(fs, true);
  ASSERT_EQ(::mkdir(fs.path("pids/berth").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(fs.path("memory/berth").c_str(), 0755), 0);
  auto m = Manager::make(Layout::Hybrid, fs.root(), "/berth/c4");
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->createForClone().ok());
  (*m)->startCreateRest();
  ASSERT_TRUE((*m)->createRest().ok());
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio", "unified"})
    EXPECT_TRUE(fs.exists(std::string(c) + "/berth/c4")) << c;
  ASSERT_TRUE((*m)->destroy().ok());
  for (const char* c : {"cpu", "cpuset", "memory", "pids", "freezer", "devices", "blkio"})
    EXPECT_FALSE(fs.exists(std::string(c) + "/berth/c4")) << c;
}

// A failure after the early start still removes every directory the
// kernel made for us, and only those.
TEST(FakeManager, CreateRestStartedEarlyRollsBackOnFailure) {
  FakeCgroupFs fs;
  makeV1Fake(fs, false);
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "freezer", "devices", "blkio"})
    ASSERT_EQ(::mkdir(fs.path(std::string(c) + "/berth").c_str(), 0755), 0);
  fs.file("pids/berth");  // a file where a directory must go
  auto m = Manager::make(Layout::V1, fs.root(), "/berth/c5");
  ASSERT_TRUE(m.ok());
  (*m)->startCreateRest();
  auto st = (*m)->createRest();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("pids/berth"), std::string::npos) << st.error().message();
  for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "freezer", "devices", "blkio"}) {
    EXPECT_FALSE(fs.exists(std::string(c) + "/berth/c5")) << c;
    EXPECT_TRUE(fs.exists(std::string(c) + "/berth")) << c << ": not ours to remove";
  }
}

TEST(FakeManager, V2SelfJoinIsCloneIntoCgroup) {
  FakeCgroupFs fs;
  fs.file("cgroup.procs");
  fs.file("cgroup.controllers", "cpu pids\n");
  fs.file("cgroup.subtree_control", "");
  auto m = Manager::make(Layout::V2, fs.root(), "/c2");
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->create().ok());
  auto tasks = (*m)->openTasksFiles();
  ASSERT_TRUE(tasks.ok());
  EXPECT_TRUE(tasks->empty());
  EXPECT_GE((*m)->cloneIntoFd(), 0);
}

TEST(FakeManager, V1CreateRollsBackOnFailure) {
  FakeCgroupFs fs;
  makeV1Fake(fs, false);
  fs.file("pids/berth");  // a file where a directory must go: mkdir fails
  auto m = Manager::make(Layout::V1, fs.root(), "/berth/c1");
  ASSERT_TRUE(m.ok());
  auto st = (*m)->create();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("cgroup /berth/c1"), std::string::npos) << st.error().message();
  // Nothing half-created: every hierarchy made before pids is clean again.
  for (const char* c : {"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory"})
    EXPECT_FALSE(fs.exists(std::string(c) + "/berth")) << c;
}

TEST(FakeManager, V1ErrorsNameTheField) {
  FakeCgroupFs fs;
  makeV1Fake(fs, false);
  auto m = Manager::make(Layout::V1, fs.root(), "/c");
  ASSERT_TRUE(m.ok());
  spec::Resources r;
  r.unified["memory.high"] = "1";
  auto st = (*m)->setResources(r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("linux.resources.unified"), std::string::npos) << st.error().message();
  r = {};
  r.hugepageLimits.push_back({"2MB", 1});  // no hugetlb anywhere in this fake
  st = (*m)->setResources(r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("linux.resources.hugepageLimits"), std::string::npos);
  r = {};
  r.network = spec::NetworkResources{uint32_t{1}, {}};
  st = (*m)->setResources(r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("linux.resources.network.classID"), std::string::npos);
}

TEST(FakeManager, HybridDrivesUnifiedControllersWithV2Files) {
  FakeCgroupFs fs;
  makeV1Fake(fs, true);
  auto m = Manager::make(Layout::Hybrid, fs.root(), "/c");
  ASSERT_TRUE(m.ok());
  fs.file("unified/c/hugetlb.2MB.max");
  spec::Resources r;
  r.hugepageLimits.push_back({"2MB", 4194304});
  auto st = (*m)->setResources(r);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(fs.read("unified/c/hugetlb.2MB.max"), "4194304");
  EXPECT_EQ(fs.read("unified/cgroup.subtree_control"), "+hugetlb");  // enabled because needed
}

TEST(FakeManager, V2CreateEnablesControllersAndOpensFd) {
  FakeCgroupFs fs;
  fs.file("cgroup.controllers", "cpu io pids\n");
  fs.file("cgroup.subtree_control", "");
  auto m = Manager::make(Layout::V2, fs.root(), "/a/b");
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->create().ok());
  EXPECT_TRUE(fs.exists("a/b"));
  EXPECT_GE((*m)->cloneIntoFd(), 0);
  // One write per controller: the fake keeps the last.
  EXPECT_EQ(fs.read("cgroup.subtree_control"), "+pids");
  EXPECT_EQ((*m)->pathFor("memory"), fs.path("a/b"));

  fs.file("a/b/cgroup.controllers", "cpu pids\n");
  fs.file("a/b/pids.max");
  spec::Resources r;
  r.pids = spec::PidsResources{10};
  ASSERT_TRUE((*m)->setResources(r).ok());
  EXPECT_EQ(fs.read("a/b/pids.max"), "10");
  r = {};
  r.memory = spec::MemoryResources{};
  r.memory->limit = 1;
  auto st = (*m)->setResources(r);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("linux.resources.memory"), std::string::npos) << st.error().message();
  r = {};
  r.network = spec::NetworkResources{uint32_t{1}, {}};
  EXPECT_FALSE((*m)->setResources(r).ok());
  // A real cgroupfs lets rmdir remove a cgroup with its control files.
  for (const char* f : {"a/b/cgroup.controllers", "a/b/pids.max"}) ::unlink(fs.path(f).c_str());
  ASSERT_TRUE((*m)->destroy().ok());
  EXPECT_FALSE(fs.exists("a/b"));
  EXPECT_TRUE(fs.exists("a"));  // parents stay
}

TEST(FakeManager, SavedStateRoundTrips) {
  FakeCgroupFs fs;
  for (Layout l : {Layout::V1, Layout::Hybrid, Layout::V2}) {
    auto m = Manager::make(l, fs.root(), "/berth/x", true);
    ASSERT_TRUE(m.ok());
    auto loaded = Manager::load((*m)->saveState());
    ASSERT_TRUE(loaded.ok()) << loaded.error().message();
    EXPECT_EQ((*loaded)->layout(), l);
    EXPECT_EQ((*loaded)->path(), "/berth/x");
    EXPECT_EQ((*loaded)->saveState(), (*m)->saveState());
  }
  EXPECT_FALSE(Manager::load("").ok());
  EXPECT_FALSE(Manager::load("berth-cgroups/1\nv3\n/r\n/p\nroot\nenabled\n").ok());
  EXPECT_FALSE(Manager::load("berth-cgroups/1\nv2\n/r\n/../p\nroot\nenabled\n").ok());
}

TEST(FakeManager, MakeRejectsDotDot) {
  auto m = Manager::make(Layout::V2, "/tmp", "/a/../../etc");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("\"..\""), std::string::npos);
  auto f = Manager::forContainer(std::string("/x/../y"), "id", false);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message().find("linux.cgroupsPath"), std::string::npos) << f.error().message();
}

// ---- the device program ----

// Runs the subset of eBPF that deviceProgram() emits.
int runDeviceProgram(const std::vector<bpf_insn>& prog, char type, const std::string& access, uint32_t major,
                     uint32_t minor) {
  uint32_t acc = 0;
  for (char c : access) acc |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  uint32_t ctx[3] = {(acc << 16) | (type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK), major, minor};
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    switch (i.code) {
      case BPF_LDX | BPF_W | BPF_MEM: reg[i.dst_reg] = ctx[i.off / 4]; break;
      case BPF_ALU | BPF_AND | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg] & static_cast<uint32_t>(i.imm)); break;
      case BPF_ALU | BPF_RSH | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) >> i.imm; break;
      case BPF_ALU64 | BPF_MOV | BPF_X: reg[i.dst_reg] = reg[i.src_reg]; break;
      case BPF_ALU64 | BPF_MOV | BPF_K: reg[i.dst_reg] = static_cast<uint64_t>(static_cast<int64_t>(i.imm)); break;
      case BPF_JMP | BPF_JNE | BPF_K: if (reg[i.dst_reg] != static_cast<uint64_t>(static_cast<int64_t>(i.imm))) pc += i.off; break;
      case BPF_JMP | BPF_JEQ | BPF_K: if (reg[i.dst_reg] == static_cast<uint64_t>(static_cast<int64_t>(i.imm))) pc += i.off; break;
      case BPF_JMP | BPF_EXIT: return static_cast<int>(reg[0]);
      default: ADD_FAILURE() << "unexpected opcode " << int(i.code); return -1;
    }
  }
  ADD_FAILURE() << "fell off the program";
  return -1;
}

spec::DeviceCgroup rule(bool allow, std::optional<std::string> type, std::optional<int64_t> major,
                        std::optional<int64_t> minor, std::string access) {
  spec::DeviceCgroup d;
  d.allow = allow;
  d.type = type;
  d.major = major;
  d.minor = minor;
  d.access = access;
  return d;
}

TEST(DeviceProgram, DenyAllThenAllowSome) {
  auto rules = deviceRules({rule(false, std::nullopt, std::nullopt, std::nullopt, "rwm"),
                            rule(true, "c", 1, 3, "rw"), rule(true, "b", 8, std::nullopt, "r")});
  ASSERT_TRUE(rules.ok());
  auto p = deviceProgram(*rules);
  EXPECT_EQ(runDeviceProgram(p, 'c', "rw", 1, 3), 1);
  EXPECT_EQ(runDeviceProgram(p, 'c', "m", 1, 3), 0);  // mknod not granted
  EXPECT_EQ(runDeviceProgram(p, 'c', "r", 1, 5), 0);  // /dev/zero
  EXPECT_EQ(runDeviceProgram(p, 'b', "r", 8, 17), 1);  // any minor
  EXPECT_EQ(runDeviceProgram(p, 'b', "w", 8, 0), 0);
  EXPECT_EQ(runDeviceProgram(p, 'c', "r", 8, 0), 0);  // wrong type
}

TEST(DeviceProgram, DefaultAllowAndLaterRulesWin) {
  auto rules = deviceRules({rule(false, "c", 1, 5, "w"), rule(true, "c", 1, 5, "w")});
  ASSERT_TRUE(rules.ok());
  auto p = deviceProgram(*rules);
  EXPECT_EQ(runDeviceProgram(p, 'c', "w", 1, 5), 1);  // the later allow wins
  EXPECT_EQ(runDeviceProgram(p, 'b', "rwm", 7, 0), 1);  // nothing reset: allow-all

  rules = deviceRules({rule(false, "c", 1, 5, "w")});
  p = deviceProgram(*rules);
  EXPECT_EQ(runDeviceProgram(p, 'c', "w", 1, 5), 0);
  EXPECT_EQ(runDeviceProgram(p, 'c', "r", 1, 5), 1);
  EXPECT_EQ(runDeviceProgram(p, 'c', "rw", 1, 5), 0);  // any denied access denies
}

TEST(DeviceProgram, TheKernelVerifierAcceptsIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (BPF_PROG_LOAD)";
  auto rules = deviceRules({rule(false, std::nullopt, std::nullopt, std::nullopt, "rwm"),
                            rule(true, "c", 1, 3, "rw"), rule(false, "b", std::nullopt, 2, "m")});
  ASSERT_TRUE(rules.ok());
  auto p = deviceProgram(*rules);
  char log[4096] = {};
  static const char license[] = "Apache-2.0";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uint64_t>(p.data());
  attr.insn_cnt = static_cast<uint32_t>(p.size());
  attr.license = reinterpret_cast<uint64_t>(license);
  attr.log_buf = reinterpret_cast<uint64_t>(log);
  attr.log_size = sizeof log;
  attr.log_level = 1;
  int fd = static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
  EXPECT_GE(fd, 0) << std::strerror(errno) << "\n" << log;
  if (fd >= 0) ::close(fd);
}

}  // namespace
}  // namespace berth::cgroups
