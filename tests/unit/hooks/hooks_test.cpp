// Real hooks: /bin/sh scripts in a temp dir, run through runHook/runHooks.
#include "hooks/hooks.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace berth::hooks {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Processes of process group `pgid` that are not zombies, from /proc.
int liveMembersOfGroup(int pgid) {
  int live = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    char state = 0;
    int ppid = 0, group = 0;
    fields >> state >> ppid >> group;
    if (group == pgid && state != 'Z') ++live;
  }
  return live;
}

class HooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-hooks-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes an executable /bin/sh script and returns its path.
  std::string script(const std::string& name, const std::string& body) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
    return path;
  }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static spec::Hook hookFor(const std::string& path, std::optional<int> timeout = std::nullopt) {
    spec::Hook h;
    h.path = path;
    h.timeout = timeout;
    return h;
  }

  std::string dir_;
};

TEST_F(HooksTest, StateArrivesOnStdin) {
  const std::string state = R"({"ociVersion":"1.3.0","id":"c1","status":"creating","pid":42,"bundle":"/b"})";
  auto hook = hookFor(script("h", "/bin/cat > " + file("state")));
  ASSERT_TRUE(runHook(hook, state)) << runHook(hook, state).error().message();
  EXPECT_EQ(slurp(file("state")), state);
}

TEST_F(HooksTest, LargeStateIsDeliveredWhole) {
  // Bigger than a pipe buffer: the parent must keep feeding as the hook reads.
  std::string state(1 << 20, 'x');
  auto hook = hookFor(script("h", "/bin/cat > " + file("state")));
  auto st = runHook(hook, state);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(slurp(file("state")).size(), state.size());
}

TEST_F(HooksTest, HookThatIgnoresStdinIsFine) {
  // The hook exits without reading; the write then fails with EPIPE, which
  // must neither kill the test process (SIGPIPE) nor fail the hook.
  std::string state(1 << 20, 'y');
  auto hook = hookFor(script("h", "exit 0"));
  auto st = runHook(hook, state);
  EXPECT_TRUE(st) << st.error().message();
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0) << "a SIGPIPE was left pending";
}

TEST_F(HooksTest, ArgsIncludingArgv0AndEnvAreExactlyAsGiven) {
  spec::Hook hook;
  hook.path = "/bin/sh";
  // argv[0] is "custom-argv0", not the path; read back from /proc/<pid>.
  hook.args = {"custom-argv0", "-c",
               "/usr/bin/tr '\\0' '\\n' < /proc/$$/cmdline > " + file("argv") + "; /usr/bin/tr '\\0' '\\n' < /proc/$$/environ > " +
                   file("env"),
               "x", "two words"};
  hook.env = {"FOO=bar", "SPACED=a b c"};
  auto st = runHook(hook, "{}");
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(slurp(file("argv")), "custom-argv0\n-c\n" + hook.args[2] + "\nx\ntwo words\n");
  EXPECT_EQ(slurp(file("env")), "FOO=bar\nSPACED=a b c\n");
}

TEST_F(HooksTest, NoEnvMeansEmptyEnvironment) {
  spec::Hook hook;
  hook.path = "/bin/sh";
  hook.args = {"sh", "-c", "/usr/bin/wc -c < /proc/$$/environ > " + file("n")};
  ASSERT_TRUE(runHook(hook, ""));
  EXPECT_EQ(slurp(file("n")), "0\n");
}

TEST_F(HooksTest, EmptyArgsRunWithThePathAsArgv0) {
  spec::Hook hook;
  hook.path = script("h", "echo \"$#\" > " + file("argc"));
  ASSERT_TRUE(runHook(hook, "{}"));
  EXPECT_EQ(slurp(file("argc")), "0\n");
}

TEST_F(HooksTest, NonZeroExitReportsStatusAndStderr) {
  auto hook = hookFor(script("fail", "echo 'some output' ; echo 'boom: it broke' >&2; exit 3"));
  auto st = runHook(hook, "{}");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "hook " + hook.path + " exited with status 3: boom: it broke");
}

TEST_F(HooksTest, StdoutStandsInWhenStderrIsEmpty) {
  auto hook = hookFor(script("fail", "echo 'only stdout'; exit 1"));
  auto st = runHook(hook, "{}");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "hook " + hook.path + " exited with status 1: only stdout");
}

TEST_F(HooksTest, CapturedOutputIsBounded) {
  // 200 KiB of stderr: must not deadlock on a full pipe, and the message
  // keeps only the first kMaxCapturedOutput bytes.
  auto hook = hookFor(script("noisy", "/usr/bin/head -c 204800 /dev/zero | /usr/bin/tr '\\0' e >&2; exit 2"));
  auto st = runHook(hook, "{}");
  ASSERT_FALSE(st);
  const std::string msg = st.error().message();
  EXPECT_THAT(msg, StartsWith("hook " + hook.path + " exited with status 2: eeee"));
  EXPECT_THAT(msg, HasSubstr("[truncated]"));
  EXPECT_LT(msg.size(), kMaxCapturedOutput + 200);
}

TEST_F(HooksTest, TimeoutKillsTheHookQuickly) {
  auto hook = hookFor(script("slow", "/bin/sleep 30; touch " + file("finished")), 1);
  auto start = std::chrono::steady_clock::now();
  auto st = runHook(hook, "{}");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "hook " + hook.path + " timed out after 1 s");
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  EXPECT_FALSE(std::filesystem::exists(file("finished")));
}

TEST_F(HooksTest, TimeoutKillsTheHooksChildrenToo) {
  // The shell runs sleep as a child; killing only the shell would leave it.
  auto hook = hookFor(script("slow", "echo $$ > " + file("pid") + "; /bin/sleep 30"), 1);
  ASSERT_FALSE(runHook(hook, "{}"));
  const std::string pgidText = slurp(file("pid"));
  ASSERT_FALSE(pgidText.empty());
  const int pgid = std::stoi(pgidText);
  // SIGKILL is delivered before runHook returns, but the orphaned sleep is
  // reaped by pid 1 whenever it gets to it: a zombie counts as dead.
  EXPECT_EQ(liveMembersOfGroup(pgid), 0) << "process group " << pgid << " still has live members";
}

TEST_F(HooksTest, FastHookWithTimeoutSucceeds) {
  auto hook = hookFor(script("ok", "exit 0"), 5);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(runHook(hook, "{}"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(HooksTest, KilledBySignalIsReported) {
  auto hook = hookFor(script("die", "echo dying >&2; kill -9 $$"));
  auto st = runHook(hook, "{}");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "hook " + hook.path + " killed by signal 9 (SIGKILL): dying");
}

TEST_F(HooksTest, MissingExecutableIsAnExecError) {
  auto hook = hookFor(file("does-not-exist"));
  auto st = runHook(hook, "{}");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ENOENT);
  EXPECT_EQ(st.error().message(), "hook " + hook.path + ": execve: No such file or directory");
}

TEST_F(HooksTest, RelativePathIsRejected) {
  auto st = runHook(hookFor("bin/true"), "{}");
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("must be absolute"));
}

TEST_F(HooksTest, NoFdsLeakIntoTheHook) {
  // A descriptor without CLOEXEC, as a careless library might leave one.
  UniqueFd leaky(::open("/dev/null", O_RDONLY));
  ASSERT_TRUE(leaky.valid());
  ASSERT_EQ(::fcntl(leaky.get(), F_GETFD) & FD_CLOEXEC, 0);
  spec::Hook hook;
  hook.path = "/bin/sh";
  hook.args = {"sh", "-c", "/bin/ls -1 /proc/self/fd > " + file("fds")};
  ASSERT_TRUE(runHook(hook, "{}"));
  // 0-2 are the pipes; 3 is ls's own handle on /proc/self/fd.
  EXPECT_EQ(slurp(file("fds")), "0\n1\n2\n3\n");
}

TEST_F(HooksTest, RunHooksStopsAtTheFirstFailureWithContext) {
  std::vector<spec::Hook> hooks = {
      hookFor(script("a", "touch " + file("a-ran"))),
      hookFor(script("b", "echo nope >&2; exit 1")),
      hookFor(script("c", "touch " + file("c-ran"))),
  };
  auto st = runHooks(hooks, "{}", "createRuntime");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "createRuntime hook[1]: hook " + hooks[1].path + " exited with status 1: nope");
  EXPECT_TRUE(std::filesystem::exists(file("a-ran")));
  EXPECT_FALSE(std::filesystem::exists(file("c-ran")));
}

TEST_F(HooksTest, RunHooksRunsAllInOrder) {
  std::vector<spec::Hook> hooks;
  for (int i = 0; i < 3; ++i)
    hooks.push_back(hookFor(script("h" + std::to_string(i), "echo " + std::to_string(i) + " >> " + file("order"))));
  ASSERT_TRUE(runHooks(hooks, "{}", "poststart"));
  EXPECT_EQ(slurp(file("order")), "0\n1\n2\n");
}

TEST_F(HooksTest, WarnOnlyLogsFailuresAndContinues) {
  const std::string logPath = file("log");
  ASSERT_TRUE(log::configure(logPath, log::Format::Text, false));
  std::vector<spec::Hook> hooks = {
      hookFor(script("bad", "echo cleanup failed >&2; exit 4")),
      hookFor(script("good", "touch " + file("ran"))),
  };
  runHooksWarnOnly(hooks, "{}", "poststop");
  log::configure("", log::Format::Text, false);
  EXPECT_TRUE(std::filesystem::exists(file("ran")));
  const std::string logged = slurp(logPath);
  EXPECT_THAT(logged, HasSubstr("poststop hook[0]: hook " + hooks[0].path + " exited with status 4: cleanup failed"));
  EXPECT_THAT(logged, HasSubstr("warn"));
}

}  // namespace
}  // namespace berth::hooks
