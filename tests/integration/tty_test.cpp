// Terminals: process.terminal with --console-socket (the master travels to
// recvtty, our stand-in for conmon / containerd's shim) and a foreground run
// that keeps the master itself.
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "harness.hpp"

extern char** environ;

namespace berth::it {
namespace {

class Tty : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    sock_ = tmp_ / "console.sock";
    out_ = tmp_ / "console.out";
    config_["process"]["terminal"] = true;
  }
  void TearDown() override {
    if (recvtty_ > 0) {
      ::kill(recvtty_, SIGKILL);
      ::waitpid(recvtty_, nullptr, 0);
    }
    RuntimeTest::TearDown();
  }

  // Starts recvtty on sock_ and waits until it accepts connections.
  void startRecvtty(const std::string& input = "") {
    std::vector<std::string> args = {BERTH_RECVTTY_BIN, sock_.string(), out_.string()};
    if (!input.empty()) args.push_back(input);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(::posix_spawn(&recvtty_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
    for (int i = 0; i < 200 && !fs::exists(sock_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(fs::exists(sock_)) << "recvtty did not start listening";
  }

  // recvtty's exit status once the terminal hung up (-1 on timeout).
  int waitRecvtty(std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(recvtty_, &status, WNOHANG) == recvtty_) {
        recvtty_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  void setScript(const std::string& script) { config_["process"]["args"] = {"/bin/sh", "-c", script}; }

  // runc's rule: --console-socket only with --detach. Returns once the
  // container was started; the caller waits for recvtty.
  ProcResult runWithSocket() {
    writeConfig();
    return rt({"run", "-d", "--console-socket", sock_.string(), "--bundle", bundle_.string(), id_});
  }

  fs::path sock_, out_;
  pid_t recvtty_ = -1;
};

TEST_F(Tty, ConsoleSocketReceivesTheMasterAndTheOutput) {
  startRecvtty();
  config_["process"]["consoleSize"] = {{"height", 31}, {"width", 107}};
  setScript("tty; stty size; echo on-the-pty");
  ProcResult r = runWithSocket();
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(waitRecvtty(), 0) << readFile(out_.string() + ".name");
  // runc's payload: the master's name.
  EXPECT_EQ(readFile(out_.string() + ".name"), "/dev/ptmx");
  std::string out = readFile(out_);
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  EXPECT_NE(out.find("31 107"), std::string::npos) << out;
  EXPECT_NE(out.find("on-the-pty"), std::string::npos) << out;
  // Nothing went to the runtime's own stdout: the process's stdio is the pty.
  EXPECT_EQ(r.out.find("on-the-pty"), std::string::npos) << r.out;
}

TEST_F(Tty, DevConsoleIsThePty) {
  startRecvtty();
  setScript("if [ \"$(stat -L -c %t:%T /dev/console)\" = \"$(stat -L -c %t:%T $(tty))\" ]; then echo same; "
            "else echo different; fi; stat -L -c %F /dev/console");
  ProcResult r = runWithSocket();
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(waitRecvtty(), 0);
  std::string out = readFile(out_);
  EXPECT_NE(out.find("same"), std::string::npos) << out;
  EXPECT_NE(out.find("character special file"), std::string::npos) << out;
}

TEST_F(Tty, InputWrittenToTheMasterReachesTheProcess) {
  startRecvtty("hello-in\n");
  setScript("read line; echo got:$line");
  ProcResult r = runWithSocket();
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(waitRecvtty(), 0);
  std::string out = readFile(out_);
  EXPECT_NE(out.find("got:hello-in"), std::string::npos) << out;
}

TEST_F(Tty, CreateAndStartWithConsoleSocket) {
  startRecvtty();
  setScript("tty; echo exit-code-7; exit 7");
  writeConfig();
  ProcResult c = rt({"create", "--console-socket", sock_.string(), "--bundle", bundle_.string(), id_});
  ASSERT_EQ(c.status, 0) << c.err;
  ProcResult s = rt({"start", id_});
  ASSERT_EQ(s.status, 0) << s.err;
  ASSERT_EQ(waitRecvtty(), 0);
  std::string out = readFile(out_);
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  EXPECT_NE(out.find("exit-code-7"), std::string::npos) << out;
  EXPECT_TRUE(waitForStatus(id_, "stopped"));
  EXPECT_EQ(rt({"delete", id_}).status, 0);
}

TEST_F(Tty, RefusedConsoleSocketFailsCleanly) {
  setScript("true");
  writeConfig();
  // A socket file nobody listens on: connect is refused.
  ProcResult r = rt({"create", "--console-socket", (tmp_ / "nobody.sock").string(), "--bundle",
                     bundle_.string(), id_});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  if (isBerth()) {
    EXPECT_NE(r.err.find("console-socket"), std::string::npos) << r.err;
  }
  expectNothingLeft(id_);
}

TEST_F(Tty, ForegroundRunRefusesAConsoleSocket) {
  setScript("true");
  writeConfig();
  ProcResult r = rt({"run", "--console-socket", sock_.string(), "--bundle", bundle_.string(), id_});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  expectNothingLeft(id_);
}

TEST_F(Tty, CreateWithTerminalNeedsAConsoleSocket) {
  setScript("true");
  ProcResult r = create(id_);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  expectNothingLeft(id_);
}

TEST_F(Tty, ForegroundRunKeepsTheMasterAndRelaysOutput) {
  if (!isBerth()) GTEST_SKIP() << "runc needs a terminal on stdin for this";
  config_["process"]["consoleSize"] = {{"height", 24}, {"width", 81}};
  ProcResult r = runSh("tty; stty size; exit 3");
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.out.find("/dev/pts/0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("24 81"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace berth::it
