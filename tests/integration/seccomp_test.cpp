// linux.seccomp from inside real containers: the configured errno, the kill
// actions, argument operators, a notify listener that answers, a large
// Docker-shaped allow list, and bad profiles failing `create`.
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "common/unique_fd.hpp"
#include "harness.hpp"

namespace berth::it {
namespace {

using Seccomp = RuntimeTest;

Json denyRule(const std::vector<std::string>& names, const std::string& action, int errnoRet = -1) {
  Json r = {{"names", names}, {"action", action}};
  if (errnoRet >= 0) r["errnoRet"] = errnoRet;
  return r;
}

// busybox mkdir may use mkdir(2) or mkdirat(2): rules name both.
const std::vector<std::string> kMkdir = {"mkdir", "mkdirat"};

TEST_F(Seccomp, DeniedSyscallFailsWithDefaultEperm) {
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls", {denyRule(kMkdir, "SCMP_ACT_ERRNO")}}};
  ProcResult r = runSh("mkdir /dev/shm/x; echo rc=$?; [ -d /dev/shm/x ] && echo made; touch /dev/shm/f && echo touched");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"rc=1", "touched"}));
}

TEST_F(Seccomp, DeniedSyscallFailsWithConfiguredErrno) {
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls", {denyRule(kMkdir, "SCMP_ACT_ERRNO", ENOSPC)}}};
  ProcResult r = runSh("mkdir /dev/shm/x; echo rc=$?");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(trim(r.out), "rc=1");
}

TEST_F(Seccomp, DefaultErrnoRetAppliesToUnlistedSyscalls) {
  // Everything is denied with EXDEV except what sh and mkdir need to start,
  // so mkdir itself gets the default errno.
  std::vector<std::string> allow;
  std::ifstream hdr("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
  if (!hdr) GTEST_SKIP() << "needs the x86_64 syscall list from linux-libc-dev";
  std::regex def(R"(#define __NR_(\w+) \d+)");
  for (std::string line; std::getline(hdr, line);) {
    std::smatch m;
    if (std::regex_match(line, m, def) && m[1] != "mkdir" && m[1] != "mkdirat") allow.push_back(m[1]);
  }
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ERRNO"},
                                 {"defaultErrnoRet", EXDEV},
                                 {"syscalls", {{{"names", allow}, {"action", "SCMP_ACT_ALLOW"}}}}};
  ProcResult r = runSh("mkdir /dev/shm/x; echo rc=$?");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("Invalid cross-device link"), std::string::npos) << r.err;
}

TEST_F(Seccomp, KillProcessKillsWithSigsys) {
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls", {denyRule(kMkdir, "SCMP_ACT_KILL_PROCESS")}}};
  config_["process"]["args"] = {"/bin/mkdir", "/dev/shm/x"};
  ProcResult r = runContainer();
  EXPECT_EQ(r.status, 128 + SIGSYS) << r.err;
}

TEST_F(Seccomp, KillThreadKillsTheSingleThreadedProcess) {
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls", {denyRule(kMkdir, "SCMP_ACT_KILL")}}};
  config_["process"]["args"] = {"/bin/mkdir", "/dev/shm/x"};
  ProcResult r = runContainer();
  EXPECT_EQ(r.status, 128 + SIGSYS) << r.err;
}

TEST_F(Seccomp, LogActionAllows) {
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"flags", {"SECCOMP_FILTER_FLAG_LOG"}},
                                 {"syscalls", {denyRule(kMkdir, "SCMP_ACT_LOG")}}};
  ProcResult r = runSh("mkdir /dev/shm/x && echo made");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "made");
}

TEST_F(Seccomp, FilterIsInstalledInTheContainerProcess) {
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls", {denyRule(kMkdir, "SCMP_ACT_ERRNO")}}};
  ProcResult r = runSh("grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.out;
}

// kill(pid, sig): the rule matches on sig (argument 1). Each case names an
// operator that matches sig 0 and not sig 18 (SIGCONT), or the reverse.
struct OpCase {
  const char* op;
  uint64_t value;
  uint64_t valueTwo;
  bool matchesZero;
};

class SeccompOperators : public RuntimeTest, public ::testing::WithParamInterface<OpCase> {};

TEST_P(SeccompOperators, MatchOnSyscallArgument) {
  const OpCase& c = GetParam();
  Json arg = {{"index", 1}, {"value", c.value}, {"op", c.op}};
  if (std::string(c.op) == "SCMP_CMP_MASKED_EQ") arg["valueTwo"] = c.valueTwo;
  config_["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"kill"}}, {"action", "SCMP_ACT_ERRNO"}, {"args", {arg}}}}}};
  ProcResult r = runSh("kill -0 $$; echo zero=$?; kill -CONT $$; echo cont=$?");
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> want = c.matchesZero ? std::vector<std::string>{"zero=1", "cont=0"}
                                                : std::vector<std::string>{"zero=0", "cont=1"};
  EXPECT_EQ(lines(r.out), want) << r.err;
}

INSTANTIATE_TEST_SUITE_P(AllOperators, SeccompOperators,
                         ::testing::Values(OpCase{"SCMP_CMP_EQ", 0, 0, true}, OpCase{"SCMP_CMP_NE", 18, 0, true},
                                           OpCase{"SCMP_CMP_LT", 1, 0, true}, OpCase{"SCMP_CMP_LE", 0, 0, true},
                                           OpCase{"SCMP_CMP_GE", 18, 0, false}, OpCase{"SCMP_CMP_GT", 17, 0, false},
                                           OpCase{"SCMP_CMP_MASKED_EQ", 0x10, 0x10, false}),
                         [](const auto& p) { return std::string(p.param.op).substr(9); });

TEST_F(Seccomp, NonRootUserWithoutNoNewPrivileges) {
  // Loading then needs CAP_SYS_ADMIN: the filter goes in before caps are dropped.
  config_["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  config_["process"]["noNewPrivileges"] = false;
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls", {denyRule(kMkdir, "SCMP_ACT_ERRNO", ENOSPC)}}};
  ProcResult r = runSh("id -u; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; mkdir /dev/shm/x");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"1000", "NoNewPrivs:\t0", "Seccomp:\t2"}));
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
}

TEST_F(Seccomp, NonRootUserWithNoNewPrivileges) {
  config_["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls", {denyRule(kMkdir, "SCMP_ACT_ERRNO", ENOSPC)}}};
  ProcResult r = runSh("mkdir /dev/shm/x");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
}

// A Docker-shaped profile: deny by default, allow every syscall this
// architecture has except mkdir*, with Docker's three x86 architectures and
// an argument-filtered personality rule.
TEST_F(Seccomp, LargeDefaultProfileWorks) {
  std::ifstream hdr("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
  if (!hdr) GTEST_SKIP() << "needs the x86_64 syscall list from linux-libc-dev";
  std::vector<std::string> allow;
  std::regex def(R"(#define __NR_(\w+) \d+)");
  for (std::string line; std::getline(hdr, line);) {
    std::smatch m;
    if (std::regex_match(line, m, def) && m[1] != "mkdir" && m[1] != "mkdirat" && m[1] != "personality")
      allow.push_back(m[1]);
  }
  ASSERT_GT(allow.size(), 300u);
  config_["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", EPERM},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"syscalls",
       {{{"names", allow}, {"action", "SCMP_ACT_ALLOW"}},
        {{"names", {"personality"}}, {"action", "SCMP_ACT_ALLOW"}, {"args", {{{"index", 0}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}}}},
        {{"names", {"personality"}}, {"action", "SCMP_ACT_ALLOW"}, {"args", {{{"index", 0}, {"value", 8}, {"op", "SCMP_CMP_EQ"}}}}},
        {{"names", {"personality"}}, {"action", "SCMP_ACT_ALLOW"}, {"args", {{{"index", 0}, {"value", 0xffffffff}, {"op", "SCMP_CMP_EQ"}}}}}}}};
  ProcResult r = runSh("echo hello; ls / >/dev/null && echo listed; mkdir /dev/shm/x; echo rc=$?");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"hello", "listed", "rc=1"}));
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
}

TEST_F(Seccomp, UnknownSyscallNameFailsCreate) {
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls",
                                  {denyRule({"getcwd"}, "SCMP_ACT_ERRNO"), denyRule({"chmod"}, "SCMP_ACT_ERRNO"),
                                   denyRule({"foo"}, "SCMP_ACT_ERRNO")}}};
  ProcResult r = create(id_);
  EXPECT_EQ(r.status, 1);
  if (isBerth()) {
    EXPECT_NE(r.err.find("linux.seccomp.syscalls[2].names[0]: unknown syscall \"foo\""), std::string::npos) << r.err;
    EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  }
  expectNothingLeft(id_);
}

TEST_F(Seccomp, UnknownActionFailsCreate) {
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls", {denyRule({"mkdir"}, "SCMP_ACT_EXPLODE")}}};
  ProcResult r = create(id_);
  EXPECT_EQ(r.status, 1);
  if (isBerth()) {
    EXPECT_NE(r.err.find("linux.seccomp.syscalls[0].action"), std::string::npos) << r.err;
  }
  expectNothingLeft(id_);
}

TEST_F(Seccomp, ErrnoRetWithAnActionThatTakesNoneFailsCreate) {
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls", {denyRule({"mkdir"}, "SCMP_ACT_KILL", 5)}}};
  ProcResult r = create(id_);
  EXPECT_EQ(r.status, 1);
  if (isBerth()) {
    EXPECT_NE(r.err.find("linux.seccomp.syscalls[0].errnoRet"), std::string::npos) << r.err;
  }
  expectNothingLeft(id_);
}

TEST_F(Seccomp, ControlValidProfileCreates) {
  // The control for the failures above: the same shape with known names works.
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"syscalls", {denyRule({"getcwd", "chmod"}, "SCMP_ACT_ERRNO")}}};
  ProcResult r = create(id_);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(state(id_).value("status", ""), "created");
}

// ---- SCMP_ACT_NOTIFY ----

// A seccomp agent: accepts one connection on `path`, takes the listener fd
// and the process state, then answers every notification with -EXDEV.
class Agent {
 public:
  explicit Agent(const fs::path& path) {
    sock_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ok_ = ::bind(sock_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(sock_.get(), 4) == 0;
    if (ok_) thread_ = std::thread([this] { serve(); });
  }
  ~Agent() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return ok_; }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  std::string stateText;
  int gotFds = 0;
  int answered = 0;
  std::vector<int> syscalls;

 private:
  bool waitReadable(int fd) {
    pollfd p{fd, POLLIN, 0};
    while (!stop_) {
      int n = ::poll(&p, 1, 100);
      if (n > 0) return (p.revents & POLLIN) != 0;
    }
    return false;
  }
  void serve() {
    if (!waitReadable(sock_.get())) return;
    UniqueFd conn(::accept4(sock_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) return;
    UniqueFd notify;
    char buf[4096];
    for (;;) {
      iovec iov{buf, sizeof buf};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
      msghdr mh{};
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = control;
      mh.msg_controllen = sizeof control;
      if (!waitReadable(conn.get())) return;
      ssize_t n = ::recvmsg(conn.get(), &mh, MSG_CMSG_CLOEXEC);
      if (n <= 0) break;
      for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
          ++gotFds;
          notify = UniqueFd(fd);
        }
      }
      stateText.append(buf, static_cast<size_t>(n));
    }
    if (!notify) return;
    seccomp_notif_sizes sizes{};
    ::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes);
    std::vector<char> req(std::max<size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
    std::vector<char> resp(std::max<size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
    for (;;) {
      pollfd p{notify.get(), POLLIN, 0};
      int n = ::poll(&p, 1, 100);
      if (stop_ && n <= 0) return;
      if (n <= 0) continue;
      if (p.revents & POLLHUP) return;  // every filtered process is gone
      std::fill(req.begin(), req.end(), 0);
      if (::ioctl(notify.get(), SECCOMP_IOCTL_NOTIF_RECV, req.data()) != 0) continue;
      auto* r = reinterpret_cast<seccomp_notif*>(req.data());
      syscalls.push_back(r->data.nr);
      std::fill(resp.begin(), resp.end(), 0);
      auto* out = reinterpret_cast<seccomp_notif_resp*>(resp.data());
      out->id = r->id;
      out->error = -EXDEV;
      if (::ioctl(notify.get(), SECCOMP_IOCTL_NOTIF_SEND, out) == 0) ++answered;
    }
  }

  UniqueFd sock_;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(Seccomp, NotifyListenerReceivesTheFdAndAnswers) {
  const fs::path sockPath = tmp_ / "agent.sock";
  Agent agent(sockPath);
  ASSERT_TRUE(agent.ok()) << std::strerror(errno);
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"listenerPath", sockPath.string()},
                                 {"listenerMetadata", "berth-it \"quoted\""},
                                 {"syscalls", {denyRule(kMkdir, "SCMP_ACT_NOTIFY")}}};
  ProcResult r = runSh("mkdir /dev/shm/x; echo rc=$?; [ -d /dev/shm/x ] || echo absent");
  agent.join();
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"rc=1", "absent"}));
  EXPECT_NE(r.err.find("Invalid cross-device link"), std::string::npos) << r.err;
  EXPECT_EQ(agent.gotFds, 1);
  EXPECT_GE(agent.answered, 1);
  for (int nr : agent.syscalls) EXPECT_TRUE(nr == SYS_mkdir || nr == SYS_mkdirat) << nr;

  Json st = Json::parse(agent.stateText, nullptr, false);
  ASSERT_TRUE(st.is_object()) << agent.stateText;
  EXPECT_EQ(st["fds"], Json({"seccompFd"}));
  EXPECT_TRUE(st["ociVersion"].is_string());
  EXPECT_GT(st.value("pid", 0), 0);
  EXPECT_EQ(st.value("metadata", ""), "berth-it \"quoted\"");
  EXPECT_EQ(st["state"].value("id", ""), id_);
  EXPECT_EQ(st["state"].value("status", ""), "creating");
  EXPECT_EQ(st["state"].value("pid", 0), st.value("pid", -1));
}

TEST_F(Seccomp, NotifyWithoutAListenerFailsCreate) {
  config_["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                 {"listenerPath", (tmp_ / "nobody-listens.sock").string()},
                                 {"syscalls", {denyRule(kMkdir, "SCMP_ACT_NOTIFY")}}};
  ProcResult r = create(id_);
  EXPECT_EQ(r.status, 1) << r.err;
  if (isBerth()) {
    EXPECT_NE(r.err.find("linux.seccomp.listenerPath"), std::string::npos) << r.err;
  }
  expectNothingLeft(id_);
}

}  // namespace
}  // namespace berth::it
