// The managers on this machine's real cgroups, with real processes: v1 (the
// host's hybrid layout) always, pure v2 only under scripts/cgroup-v2-env.sh.
// Each test makes its own /berth-test-<pid>-<n> cgroup and removes it.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "cgroups/controllers.hpp"
#include "cgroups/manager.hpp"
#include "common/syscalls.hpp"

namespace berth::cgroups {
namespace {

constexpr int kPidsLimit = 5;

struct Shared {
  std::atomic<uint64_t> counter{0};
  std::atomic<int> forks{-1};
  std::atomic<int> openNull{-1};  // errno of opening /dev/null, 0 when it opened
  std::atomic<int> openZero{-1};
};

std::string uniquePath() {
  static int n = 0;
  return "/berth-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

bool hasV1(const char* controller) {
  return std::filesystem::exists(std::string(kDefaultRoot) + "/" + controller + "/cgroup.procs");
}

bool v2HasCpu() {
  auto c = readControllers(Dir(kDefaultRoot)).valueOr({});
  return std::find(c.begin(), c.end(), "cpu") != c.end();
}

bool pureV2() {
  auto layout = detectLayout();
  if (!layout.ok() || *layout != Layout::V2) return false;
  auto c = readControllers(Dir(kDefaultRoot)).valueOr({});
  // cpu may stay on v1 (cgroup-v2-env.sh cannot move a busy hierarchy).
  for (const char* want : {"pids"})
    if (std::find(c.begin(), c.end(), want) == c.end()) return false;
  return true;
}

// The container stand-in: once released, forks until pids.max stops it
// (the children just wait), tries two devices, then counts forever.
[[noreturn]] void childMain(Shared* sh, int goFd) noexcept {
  char c;
  if (::read(goFd, &c, 1) != 1) ::_exit(2);
  int forks = 0;
  for (int i = 0; i < 50; ++i) {
    pid_t p = ::fork();
    if (p < 0) break;
    if (p == 0) {
      for (;;) ::pause();
    }
    ++forks;
  }
  auto tryOpen = [](const char* dev) {
    int fd = ::open(dev, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ::close(fd);
    return 0;
  };
  sh->openNull = tryOpen("/dev/null");
  sh->openZero = tryOpen("/dev/zero");
  sh->forks = forks;
  for (;;) sh->counter.fetch_add(1);
}

bool waitFor(const std::function<bool()>& f, int ms = 5000) { return pollUntil(f, ms); }

std::string readTrim(const std::string& path) {
  auto s = sys::readFile(path);
  if (!s) return "<" + s.error().message() + ">";
  while (!s->empty() && s->back() == '\n') s->pop_back();
  return *s;
}

class RealCgroup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // the grandchildren come back to us
    void* mem = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    sh_ = new (mem) Shared();
  }
  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    if (mgr_) (void)mgr_->destroy();
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (sh_) ::munmap(sh_, sizeof(Shared));
  }

  // The whole lifecycle; `v2` picks the files to read back.
  void lifecycle(Layout layout) {
    const bool v2 = layout == Layout::V2;
    auto m = Manager::make(layout, kDefaultRoot, uniquePath());
    ASSERT_TRUE(m.ok()) << m.error().message();
    mgr_ = std::move(*m);
    auto created = mgr_->create();
    ASSERT_TRUE(created.ok()) << created.error().message();

    spec::Resources r;
    r.pids = spec::PidsResources{kPidsLimit};
    const bool cpu = v2 ? v2HasCpu() : true;
    if (cpu) {
      r.cpu = spec::CpuResources{};
      r.cpu->quota = 50000;
      r.cpu->period = 100000;
    }
    spec::DeviceCgroup denyAll;
    denyAll.allow = false;
    denyAll.access = "rwm";
    spec::DeviceCgroup allowNull;
    allowNull.allow = true;
    allowNull.type = "c";
    allowNull.major = 1;
    allowNull.minor = 3;
    allowNull.access = "rwm";
    r.devices = {denyAll, allowNull};
    auto set = mgr_->setResources(r);
    ASSERT_TRUE(set.ok()) << set.error().message();

    if (v2) {
      if (cpu) {
        EXPECT_EQ(readTrim(mgr_->pathFor("cpu") + "/cpu.max"), "50000 100000");
      }
      EXPECT_EQ(readTrim(mgr_->pathFor("pids") + "/pids.max"), std::to_string(kPidsLimit));
    } else {
      EXPECT_EQ(readTrim(mgr_->pathFor("cpu") + "/cpu.cfs_quota_us"), "50000");
      EXPECT_EQ(readTrim(mgr_->pathFor("cpu") + "/cpu.cfs_period_us"), "100000");
    }

    int go[2];
    ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
    if (v2) {
      // Straight into the cgroup: what create does with clone3.
      ASSERT_GE(mgr_->cloneIntoFd(), 0);
      sys::CloneArgs args;
      args.flags = CLONE_INTO_CGROUP;
      args.exit_signal = SIGCHLD;
      args.cgroup = static_cast<uint64_t>(mgr_->cloneIntoFd());
      child_ = sys::clone3(args);
    } else {
      // Hybrid: the unified part's directory, for clone3; pure v1: none.
      EXPECT_EQ(mgr_->cloneIntoFd() >= 0, layout == Layout::Hybrid);
      child_ = ::fork();
    }
    ASSERT_GE(child_, 0) << std::strerror(errno);
    if (child_ == 0) childMain(sh_, go[0]);
    ::close(go[0]);
    if (!v2) {
      auto applied = mgr_->apply(child_);
      ASSERT_TRUE(applied.ok()) << applied.error().message();
    }
    ASSERT_EQ(::write(go[1], "g", 1), 1);
    ::close(go[1]);

    ASSERT_TRUE(waitFor([&] { return sh_->forks.load() >= 0; })) << "child never finished forking";
    EXPECT_EQ(sh_->forks.load(), kPidsLimit - 1) << "pids.max must stop the fork loop";
    EXPECT_EQ(sh_->openNull.load(), 0) << "allowed /dev/null";
    EXPECT_EQ(sh_->openZero.load(), EPERM) << "denied /dev/zero";

    auto pids = mgr_->pids();
    ASSERT_TRUE(pids.ok()) << pids.error().message();
    EXPECT_EQ(pids->size(), static_cast<size_t>(kPidsLimit));
    EXPECT_NE(std::find(pids->begin(), pids->end(), child_), pids->end());

    auto stats = mgr_->stats();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->pids.current, static_cast<uint64_t>(kPidsLimit));
    EXPECT_EQ(stats->pids.limit, static_cast<uint64_t>(kPidsLimit));
    EXPECT_GT(stats->cpu.usage.total, 0u);

    // Frozen: the counter stops; thawed: it moves again.
    auto frozen = mgr_->freeze();
    ASSERT_TRUE(frozen.ok()) << frozen.error().message();
    EXPECT_TRUE(mgr_->isFrozen().valueOr(false));
    if (!v2 && hasV1("freezer")) {
      EXPECT_EQ(readTrim(mgr_->pathFor("freezer") + "/freezer.state"), "FROZEN");
    }
    uint64_t before = sh_->counter.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(sh_->counter.load(), before) << "a frozen process ran";
    auto thawed = mgr_->thaw();
    ASSERT_TRUE(thawed.ok()) << thawed.error().message();
    EXPECT_FALSE(mgr_->isFrozen().valueOr(true));
    EXPECT_TRUE(waitFor([&] { return sh_->counter.load() > before; })) << "thawed process does not run";

    // A saved and reloaded manager drives the same cgroup.
    auto loaded = Manager::load(mgr_->saveState());
    ASSERT_TRUE(loaded.ok()) << loaded.error().message();
    auto killed = (*loaded)->killAll(SIGKILL);
    ASSERT_TRUE(killed.ok()) << killed.error().message();
    int status = 0;
    ASSERT_EQ(::waitpid(child_, &status, 0), child_);
    child_ = -1;
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    EXPECT_TRUE(waitFor([&] {
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
      auto p = mgr_->pids();
      return p.ok() && p->empty();
    })) << "processes left after killAll";

    std::vector<std::string> dirs;
    for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices", "blkio", "unified"})
      if (auto p = mgr_->pathFor(c); !p.empty()) dirs.push_back(p);
    ASSERT_FALSE(dirs.empty());
    for (const auto& d : dirs) EXPECT_TRUE(std::filesystem::exists(d)) << d;
    // destroy works on a frozen cgroup
    ASSERT_TRUE(mgr_->freeze().ok());
    auto destroyed = mgr_->destroy();
    ASSERT_TRUE(destroyed.ok()) << destroyed.error().message();
    for (const auto& d : dirs) EXPECT_FALSE(std::filesystem::exists(d)) << d << " left behind";
    mgr_.reset();
  }

  Shared* sh_ = nullptr;
  pid_t child_ = -1;
  std::unique_ptr<Manager> mgr_;
};

TEST_F(RealCgroup, V1Lifecycle) {
  auto layout = detectLayout();
  ASSERT_TRUE(layout.ok());
  if (*layout == Layout::V2 || !hasV1("pids") || !hasV1("cpu") || !hasV1("freezer") || !hasV1("devices"))
    GTEST_SKIP() << "needs cgroup v1 pids, cpu, freezer and devices hierarchies";
  lifecycle(*layout);
}

TEST_F(RealCgroup, V2Lifecycle) {
  // On this workplace's VM the pids hierarchy stays busy on v1 (cgroup-v2-env.sh
  // cannot move it), so this runs only on a host that really has pids on v2;
  // the v2 code paths are covered here by the fake-cgroupfs tests and the
  // Cgroups.* integration tests on the v2 view.
  if (!pureV2()) GTEST_SKIP() << "needs pids on cgroup v2 (a pure v2 host, or scripts/cgroup-v2-env.sh where it can move pids)";
  lifecycle(Layout::V2);
}

// The init's own join (Manager::openTasksFiles): a child writing "0" to the `tasks` fds the
// manager opened lands in the cgroup on every v1 hierarchy, and the process
// that opened them (the runtime) stays where it was.
TEST_F(RealCgroup, V1SelfJoinMovesOnlyTheWriter) {
  auto layout = detectLayout();
  ASSERT_TRUE(layout.ok());
  if (*layout == Layout::V2 || !hasV1("pids") || !hasV1("devices")) GTEST_SKIP() << "needs cgroup v1 hierarchies";
  const std::string path = uniquePath();
  auto m = Manager::make(*layout, kDefaultRoot, path);
  ASSERT_TRUE(m.ok());
  mgr_ = std::move(*m);
  ASSERT_TRUE(mgr_->create().ok());
  auto tasks = mgr_->openTasksFiles();
  ASSERT_TRUE(tasks.ok()) << tasks.error().message();
  EXPECT_FALSE(tasks->empty());
  EXPECT_EQ(mgr_->cloneIntoFd() >= 0, *layout == Layout::Hybrid) << "the unified part comes from clone3";
  const std::string before = readTrim("/proc/self/cgroup");

  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  child_ = ::fork();
  ASSERT_GE(child_, 0);
  if (child_ == 0) {
    ::close(go[1]);
    char c;
    if (::read(go[0], &c, 1) != 1) ::_exit(2);
    if (!joinThroughTasks(*tasks).ok()) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(go[0]);
  ASSERT_EQ(::write(go[1], "x", 1), 1);
  ::close(go[1]);
  const std::string procFile = "/proc/" + std::to_string(child_) + "/cgroup";
  ASSERT_TRUE(waitFor([&] { return readTrim(procFile).find("devices:" + path) != std::string::npos; }))
      << readTrim(procFile);
  const std::string inside = readTrim(procFile);
  for (const char* c : {"pids", "freezer", "devices", "blkio", "memory", "cpuset"}) {
    if (hasV1(c)) {
      EXPECT_NE(inside.find(std::string(c) + ":" + path + "\n"), std::string::npos) << c << "\n" << inside;
    }
  }
  EXPECT_EQ(readTrim("/proc/self/cgroup"), before) << "the runtime itself must not move";
  EXPECT_EQ(readTrim(mgr_->pathFor("pids") + "/cgroup.procs"), std::to_string(child_));
}

// Memory on v1 for real (it cannot move to v2 here): a cgroup of our own.
TEST_F(RealCgroup, V1MemoryLimitReadsBack) {
  auto layout = detectLayout();
  if (!layout.ok() || *layout == Layout::V2 || !hasV1("memory")) GTEST_SKIP() << "needs a cgroup v1 memory hierarchy";
  auto m = Manager::make(*layout, kDefaultRoot, uniquePath());
  ASSERT_TRUE(m.ok());
  mgr_ = std::move(*m);
  ASSERT_TRUE(mgr_->create().ok());
  spec::Resources r;
  r.memory = spec::MemoryResources{};
  r.memory->limit = 64 << 20;
  r.memory->reservation = 32 << 20;
  auto set = mgr_->setResources(r);
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_EQ(readTrim(mgr_->pathFor("memory") + "/memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(readTrim(mgr_->pathFor("memory") + "/memory.soft_limit_in_bytes"), std::to_string(32 << 20));
  // Bad input leaves the limit as it was.
  r.memory->limit = -5;
  EXPECT_FALSE(mgr_->setResources(r).ok());
  EXPECT_EQ(readTrim(mgr_->pathFor("memory") + "/memory.limit_in_bytes"), std::to_string(64 << 20));
  ASSERT_TRUE(mgr_->destroy().ok());
  EXPECT_FALSE(std::filesystem::exists(mgr_->pathFor("memory")));
}

// Controllers this host lacks: a clear error naming the field.
TEST_F(RealCgroup, MissingControllersNameTheField) {
  auto layout = detectLayout();
  ASSERT_TRUE(layout.ok());
  auto m = Manager::make(*layout, kDefaultRoot, uniquePath());
  ASSERT_TRUE(m.ok());
  mgr_ = std::move(*m);
  ASSERT_TRUE(mgr_->create().ok());
  if (!hasV1("net_cls")) {
    spec::Resources r;
    r.network = spec::NetworkResources{};
    r.network->classID = 7;
    auto st = mgr_->setResources(r);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message().find("linux.resources.network.classID"), std::string::npos)
        << st.error().message();
  }
  if (!hasV1("rdma")) {
    spec::Resources r;
    r.rdma["mlx5_0"] = spec::RdmaLimit{uint32_t{1}, std::nullopt};
    auto st = mgr_->setResources(r);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message().find("linux.resources.rdma"), std::string::npos) << st.error().message();
  }
  ASSERT_TRUE(mgr_->destroy().ok());
}

}  // namespace
}  // namespace berth::cgroups
