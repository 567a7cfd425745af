// exec: a second process in a running container, every flag checked from
// inside, and the ways it must refuse.
#include <unistd.h>

#include <sstream>

#include "harness.hpp"

namespace berth::it {
namespace {

class Exec : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    config_["process"]["noNewPrivileges"] = false;
  }
  // Starts id_ detached with a long sleep as its init.
  void startContainer() {
    config_["process"]["args"] = {"sleep", "300"};
    writeConfig();
    ProcResult r = rt({"run", "-d", "--bundle", bundle_.string(), id_});
    ASSERT_EQ(r.status, 0) << r.err;
  }
  ProcResult exec(std::vector<std::string> args) {
    args.insert(args.begin(), "exec");
    return rt(args);
  }
  // berth exits 1 on its own errors; runc's exec exits 255.
  void expectOneErrorLine(const ProcResult& r) {
    EXPECT_EQ(r.status, isBerth() ? 1 : 255) << r.out;
    EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  }
};

std::string field(const std::string& status, const std::string& key) {
  for (const auto& l : lines(status))
    if (l.rfind(key + ":", 0) == 0) return trim(l.substr(key.size() + 1));
  return "<missing>";
}

TEST_F(Exec, ExitStatusIsReturned) {
  startContainer();
  EXPECT_EQ(exec({id_, "sh", "-c", "exit 7"}).status, 7);
  EXPECT_EQ(exec({id_, "sh", "-c", "kill -9 $$"}).status, 137);
  ProcResult ok = exec({id_, "echo", "hello", "-n"});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.out, "hello -n\n");  // words after the command are its own, even flag-like ones
}

TEST_F(Exec, JoinsTheContainersNamespacesRootAndCgroup) {
  startContainer();
  ProcResult r = exec({id_, "sh", "-c", "echo pid=$$; hostname; cat /proc/1/cmdline; echo; cat /proc/self/cgroup; ls /"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("pid="), std::string::npos);
  EXPECT_EQ(r.out.find("pid=1\n"), std::string::npos) << "exec must not be the init";
  EXPECT_NE(r.out.find("berth-it\n"), std::string::npos) << r.out;  // uts
  EXPECT_NE(r.out.find(std::string("sleep") + '\0' + "300"), std::string::npos) << r.out;  // pid ns: 1 is the init
  EXPECT_NE(r.out.find(":pids:" + cgroupPathFor(id_)), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("build-"), std::string::npos) << "saw the host's root: " << r.out;
}

TEST_F(Exec, UserGroupsCwdAndEnvFlags) {
  startContainer();
  ProcResult r = exec({"-u", "1000:1001", "-g", "5", "-g", "7", "--cwd", "/tmp", "-e", "FOO=bar", "-e", "TERM=dumb",
                       id_, "sh", "-c", "id -u; id -g; id -G; pwd; echo $FOO; echo $TERM; echo $PATH"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> l = lines(r.out);
  ASSERT_EQ(l.size(), 7u) << r.out;
  EXPECT_EQ(l[0], "1000");
  EXPECT_EQ(l[1], "1001");
  EXPECT_NE(l[2].find("5"), std::string::npos) << l[2];
  EXPECT_NE(l[2].find("7"), std::string::npos) << l[2];
  EXPECT_EQ(l[3], "/tmp");
  EXPECT_EQ(l[4], "bar");
  EXPECT_EQ(l[5], "dumb");  // replaced, not duplicated
  EXPECT_EQ(l[6], "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");  // from config.json
}

TEST_F(Exec, CapabilitiesAndNoNewPrivs) {
  startContainer();
  ProcResult plain = exec({id_, "cat", "/proc/self/status"});
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(field(plain.out, "NoNewPrivs"), "0");
  const unsigned long long sysAdmin = 1ULL << 21, kill = 1ULL << 5;
  unsigned long long eff = std::stoull(field(plain.out, "CapEff"), nullptr, 16);
  EXPECT_TRUE(eff & kill) << "the config's capabilities apply";
  EXPECT_FALSE(eff & sysAdmin);

  ProcResult more = exec({"--cap", "CAP_SYS_ADMIN", "--no-new-privs", id_, "cat", "/proc/self/status"});
  ASSERT_EQ(more.status, 0) << more.err;
  EXPECT_EQ(field(more.out, "NoNewPrivs"), "1");
  eff = std::stoull(field(more.out, "CapEff"), nullptr, 16);
  EXPECT_TRUE(eff & sysAdmin);
  EXPECT_TRUE(eff & kill);
}

TEST_F(Exec, ProcessFile) {
  startContainer();
  Json proc = config_["process"];
  proc["args"] = {"sh", "-c", "id -u; pwd; echo $X"};
  proc["cwd"] = "/etc";
  proc["env"] = {"PATH=/bin", "X=from-file"};
  proc["user"] = {{"uid", 42}, {"gid", 43}};
  writeFile(tmp_ / "process.json", proc.dump());
  ProcResult r = exec({"--process", (tmp_ / "process.json").string(), id_});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"42", "/etc", "from-file"}));
}

TEST_F(Exec, TheContainersSeccompFilterApplies) {
  config_["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}}}};
  startContainer();
  ProcResult r = exec({id_, "sh", "-c", "mkdir /tmp/x && echo made || echo refused"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "refused");
  EXPECT_FALSE(fs::exists(rootfs_ / "tmp" / "x"));
}

TEST_F(Exec, DetachedWithPidFile) {
  startContainer();
  const fs::path pidFile = tmp_ / "exec.pid";
  ProcResult r = exec({"-d", "--pid-file", pidFile.string(), id_, "sleep", "30"});
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string pid = trim(readFile(pidFile));
  ASSERT_FALSE(pid.empty());
  EXPECT_EQ(readFile("/proc/" + pid + "/cmdline"), std::string("sleep") + '\0' + "30" + '\0');
  const int init = state(id_).value("pid", 0);
  EXPECT_EQ(fs::read_symlink("/proc/" + pid + "/ns/pid"), fs::read_symlink("/proc/" + std::to_string(init) + "/ns/pid"));
  EXPECT_EQ(fs::read_symlink("/proc/" + pid + "/ns/mnt"), fs::read_symlink("/proc/" + std::to_string(init) + "/ns/mnt"));
}

TEST_F(Exec, TtyInTheForeground) {
  if (!isBerth()) GTEST_SKIP() << "runc needs a terminal on stdin for this";
  startContainer();
  ProcResult r = exec({"-t", id_, "sh", "-c", "tty; exit 3"});
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
}

TEST_F(Exec, PreservedFdReachesTheProcess) {
  startContainer();
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ProcResult r = rt({"exec", "--preserve-fds", "1", id_, "sh", "-c", "echo via-fd-3 >&3"}, {.passFds = {p[1]}});
  ::close(p[1]);
  char buf[64] = {};
  ssize_t n = ::read(p[0], buf, sizeof buf - 1);
  ::close(p[0]);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "via-fd-3\n");
}

TEST_F(Exec, PausedIsRefusedUnlessIgnorePaused) {
  startContainer();
  ASSERT_EQ(rt({"pause", id_}).status, 0);
  ProcResult r = exec({id_, "true"});
  expectOneErrorLine(r);
  if (isBerth()) {
    EXPECT_NE(r.err.find("paused"), std::string::npos) << r.err;
  }
  ASSERT_EQ(rt({"resume", id_}).status, 0);
  EXPECT_EQ(exec({id_, "true"}).status, 0);
}

TEST_F(Exec, StoppedIsRefused) {
  config_["process"]["args"] = {"true"};
  writeConfig();
  ASSERT_EQ(rt({"run", "-d", "--bundle", bundle_.string(), id_}).status, 0);
  ASSERT_TRUE(waitForStatus(id_, "stopped"));
  ProcResult r = exec({id_, "true"});
  expectOneErrorLine(r);
  if (isBerth()) {
    EXPECT_NE(r.err.find("stopped"), std::string::npos) << r.err;
  }
}

TEST_F(Exec, BadInput) {
  startContainer();
  ProcResult unknown = exec({"nosuchcontainer", "true"});
  expectOneErrorLine(unknown);

  writeFile(tmp_ / "bad.json", R"({"args": "sh", "cwd": "/"})");
  ProcResult bad = exec({"--process", (tmp_ / "bad.json").string(), id_});
  expectOneErrorLine(bad);
  if (isBerth()) {
    EXPECT_NE(bad.err.find("args"), std::string::npos) << bad.err;
  }

  ProcResult user = exec({"-u", "nobody-here", id_, "true"});
  expectOneErrorLine(user);

  ProcResult missing = exec({id_, "/no/such/program"});
  EXPECT_NE(missing.status, 0);

  ProcResult sock = exec({"-t", "-d", "--console-socket", (tmp_ / "nobody.sock").string(), id_, "true"});
  expectOneErrorLine(sock);

  // Nothing half-joined stays behind: the container holds only its init.
  ProcResult ps = rt({"ps", id_});
  if (ps.status == 0) {
    EXPECT_EQ(lines(ps.out).size(), 2u) << ps.out;  // header + the init
  }
}

}  // namespace
}  // namespace berth::it
