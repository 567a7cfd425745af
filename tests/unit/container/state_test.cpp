// The state store: atomic writes, the per-container lock, ids, and the
// pid + start-time identity of the init.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/syscalls.hpp"
#include "container/lifecycle.hpp"
#include "container/state.hpp"

namespace berth::container {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-state-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  State sample(const std::string& id) {
    State s;
    s.id = id;
    s.ociVersion = "1.3.0";
    s.bundle = "/b";
    s.rootfs = "/b/rootfs";
    s.pid = ::getpid();
    s.startTime = sys::processStartTime(::getpid()).valueOr(0);
    s.created = "2026-12-03T00:00:00Z";
    s.owner = "0";
    s.annotations = {{"a", "b"}};
    s.cgroup = "opaque\nlines\n";
    s.stored = ContainerStatus::Running;
    return s;
  }

  std::string dir_;
};

TEST_F(StoreTest, SaveLoadRoundTrips) {
  Store store(dir_ + "/root");
  auto lock = store.createDir("c1");
  ASSERT_TRUE(lock.ok()) << lock.error().message();
  State s = sample("c1");
  ASSERT_TRUE(store.save(s).ok());
  auto back = store.load("c1");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->bundle, "/b");
  EXPECT_EQ(back->pid, s.pid);
  EXPECT_EQ(back->startTime, s.startTime);
  EXPECT_EQ(back->annotations.at("a"), "b");
  EXPECT_EQ(back->cgroup, s.cgroup);
  EXPECT_EQ(back->stored, ContainerStatus::Running);
  // Atomic write: no temp files are left next to state.json.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(store.dir("c1"))) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(StoreTest, DuplicateIdIsRefused) {
  Store store(dir_ + "/root");
  auto first = store.createDir("dup");
  ASSERT_TRUE(first.ok());
  auto second = store.createDir("dup");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message(), "container \"dup\" already exists");
}

TEST_F(StoreTest, UnknownIdSaysSo) {
  Store store(dir_ + "/root");
  auto st = store.load("nope");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "container \"nope\" does not exist");
  EXPECT_FALSE(store.lock("nope").ok());
}

TEST_F(StoreTest, CorruptStateIsAClearError) {
  Store store(dir_ + "/root");
  ASSERT_TRUE(store.createDir("bad").ok());
  ASSERT_TRUE(sys::writeFileAtomic(store.dir("bad") + "/state.json", "{not json").ok());
  auto st = store.load("bad");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("state of container \"bad\" is corrupt"), std::string::npos);
}

TEST_F(StoreTest, LockSerializesCommands) {
  Store store(dir_ + "/root");
  auto held = store.createDir("locked");
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(store.save(sample("locked")).ok());
  // Another process cannot take the lock while we hold it...
  pid_t child = ::fork();
  if (child == 0) {
    int fd = ::open(store.dir("locked").c_str(), O_RDONLY | O_DIRECTORY);
    _exit(::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 1) << "lock was not exclusive";
  // ...and can once we release it.
  held->reset();
  auto again = store.lock("locked");
  EXPECT_TRUE(again.ok());
}

TEST_F(StoreTest, RemoveAndList) {
  Store store(dir_ + "/root");
  for (const char* id : {"b", "a", "c"}) {
    ASSERT_TRUE(store.createDir(id).ok());
    ASSERT_TRUE(store.save(sample(id)).ok());
  }
  auto ids = store.list();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_TRUE(store.remove("b").ok());
  EXPECT_FALSE(fs::exists(store.dir("b")));
  EXPECT_EQ(store.list()->size(), 2u);
}

TEST(ContainerId, Validation) {
  EXPECT_TRUE(validateId("abc-DEF_1.2+x").ok());
  EXPECT_FALSE(validateId("").ok());
  EXPECT_FALSE(validateId(".").ok());
  EXPECT_FALSE(validateId("..").ok());
  EXPECT_FALSE(validateId("a/b").ok());
  EXPECT_FALSE(validateId("../etc").ok());
  EXPECT_FALSE(validateId("sp ace").ok());
  EXPECT_FALSE(validateId(std::string(1025, 'a')).ok());
  EXPECT_TRUE(validateId(std::string(1024, 'a')).ok());
}

TEST(InitIdentity, ReusedPidIsNotTheContainer) {
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    _exit(0);
  }
  State s;
  s.id = "x";
  s.pid = child;
  s.startTime = sys::processStartTime(child).valueOr(0);
  ASSERT_NE(s.startTime, 0u);
  EXPECT_TRUE(initAlive(s));
  // Same pid, another start time: what a recycled pid looks like.
  State other = s;
  other.startTime = s.startTime + 1;
  EXPECT_FALSE(initAlive(other));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(initAlive(s));
}

TEST(InitIdentity, ZombieCountsAsStopped) {
  pid_t child = ::fork();
  if (child == 0) _exit(0);
  State s;
  s.id = "z";
  s.pid = child;
  s.startTime = sys::processStartTime(child).valueOr(0);
  // Wait until it has exited but do not reap it yet.
  for (int i = 0; i < 200; ++i) {
    auto stat = sys::readFile("/proc/" + std::to_string(child) + "/stat");
    if (stat && stat->find(") Z") != std::string::npos) break;
    ::usleep(5000);
  }
  EXPECT_FALSE(initAlive(s));
  ::waitpid(child, nullptr, 0);
}

TEST(StateJson, HasTheSpecKeysAndPidZeroWhenStopped) {
  State s;
  s.id = "j";
  s.ociVersion = "1.3.0";
  s.bundle = "/b";
  s.pid = 42;
  auto running = nlohmann::json::parse(stateJson(s, ContainerStatus::Running));
  EXPECT_EQ(running["status"], "running");
  EXPECT_EQ(running["pid"], 42);
  EXPECT_EQ(running["bundle"], "/b");
  EXPECT_EQ(running["ociVersion"], "1.3.0");
  auto stopped = nlohmann::json::parse(stateJson(s, ContainerStatus::Stopped, /*compact=*/true));
  EXPECT_EQ(stopped["pid"], 0);
  EXPECT_EQ(stateJson(s, ContainerStatus::Stopped, true).find('\n'), std::string::npos);
}

TEST(Signals, NamesAndNumbers) {
  EXPECT_EQ(*parseSignal("TERM"), SIGTERM);
  EXPECT_EQ(*parseSignal("SIGKILL"), SIGKILL);
  EXPECT_EQ(*parseSignal("sigusr1"), SIGUSR1);
  EXPECT_EQ(*parseSignal("9"), 9);
  EXPECT_EQ(*parseSignal("RTMIN+1"), SIGRTMIN + 1);
  EXPECT_FALSE(parseSignal("SIGFOO").ok());
  EXPECT_FALSE(parseSignal("0").ok());
  EXPECT_FALSE(parseSignal("99").ok());
  EXPECT_EQ(parseSignal("nope").error().message(), "invalid signal \"nope\"");
}

}  // namespace
}  // namespace berth::container
