// What the container's process is: pid, identity, capabilities, limits,
// environment, descriptors, and how its end is reported.
#include <fcntl.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <sstream>

#include "common/unique_fd.hpp"
#include "harness.hpp"

namespace berth::it {
namespace {

using Process = RuntimeTest;

// "CapEff:\t0000000000000400" -> {"CapEff": 0x400}
std::map<std::string, unsigned long long> capSets(const std::string& status) {
  std::map<std::string, unsigned long long> sets;
  for (const auto& line : lines(status)) {
    if (line.rfind("Cap", 0) != 0) continue;
    const auto colon = line.find(':');
    sets[line.substr(0, colon)] = std::stoull(trim(line.substr(colon + 1)), nullptr, 16);
  }
  return sets;
}

// The value of "Key:" in /proc/<pid>/status text, whitespace-normalised.
std::string statusField(const std::string& status, const std::string& key) {
  for (const auto& line : lines(status)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream words(line.substr(key.size() + 1));
      std::string w, out;
      while (words >> w) out += (out.empty() ? "" : " ") + w;
      return out;
    }
  }
  return "<missing>";
}

TEST_F(Process, ItIsPidOne) {
  ProcResult r = runSh("echo $$");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "1");
}

TEST_F(Process, StdoutAndStderrPassStraightThrough) {
  ProcResult r = runSh("echo to-out; echo to-err >&2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "to-out\n");
  EXPECT_NE(r.err.find("to-err"), std::string::npos) << r.err;
}

TEST_F(Process, HostnameFromConfig) {
  config_["hostname"] = "it-host";
  ProcResult r = runSh("hostname; cat /proc/sys/kernel/hostname");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"it-host", "it-host"}));
}

TEST_F(Process, DomainnameFromConfig) {
  if (!isBerth()) GTEST_SKIP() << "runc 1.1 ignores domainname (it arrived in runc 1.2)";
  config_["hostname"] = "it-host";
  config_["domainname"] = "it-domain.example";
  ProcResult r = runSh("cat /proc/sys/kernel/domainname");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "it-domain.example");
}

TEST_F(Process, OnlyConfiguredCapabilities) {
  const Json one = {"CAP_NET_BIND_SERVICE"};
  config_["process"]["capabilities"] =
      Json{{"bounding", one}, {"effective", one}, {"permitted", one}, {"inheritable", one}, {"ambient", one}};
  ProcResult r = runSh("cat /proc/self/status");
  ASSERT_EQ(r.status, 0) << r.err;
  auto sets = capSets(r.out);
  const unsigned long long netBind = 1ULL << 10;
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    ASSERT_TRUE(sets.count(set)) << set << " missing from\n" << r.out;
    EXPECT_EQ(sets[set], netBind) << set;
  }
}

TEST_F(Process, EmptyCapabilitiesGiveNothing) {
  config_["process"]["capabilities"] = Json::object();
  ProcResult r = runSh("cat /proc/self/status");
  ASSERT_EQ(r.status, 0) << r.err;
  auto sets = capSets(r.out);
  ASSERT_EQ(sets.size(), 5u) << r.out;
  for (const auto& [name, value] : sets) EXPECT_EQ(value, 0u) << name;
}

TEST_F(Process, DefaultCapabilitiesAreTheConfiguredThree) {
  ProcResult r = runSh("cat /proc/self/status");
  ASSERT_EQ(r.status, 0) << r.err;
  // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29).
  const unsigned long long want = (1ULL << 5) | (1ULL << 10) | (1ULL << 29);
  auto sets = capSets(r.out);
  EXPECT_EQ(sets["CapEff"], want);
  EXPECT_EQ(sets["CapBnd"], want);
  EXPECT_EQ(sets["CapPrm"], want);
  EXPECT_EQ(sets["CapInh"], 0u) << "inheritable was not configured";
  // The kernel keeps an ambient capability only while it is also inheritable,
  // and inheritable is empty here, so the configured ambient set cannot hold.
  EXPECT_EQ(sets["CapAmb"], 0u);
}

TEST_F(Process, RlimitsApplied) {
  config_["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 123}, {"hard", 456}},
                                   {{"type", "RLIMIT_NPROC"}, {"soft", 77}, {"hard", 88}}};
  ProcResult r = runSh("ulimit -n; ulimit -Hn; grep -E 'Max (open files|processes)' /proc/self/limits");
  ASSERT_EQ(r.status, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_GE(out.size(), 4u) << r.out;
  EXPECT_EQ(out[0], "123");
  EXPECT_EQ(out[1], "456");
  EXPECT_NE(r.out.find("Max processes             77                   88"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Max open files            123                  456"), std::string::npos) << r.out;
}

TEST_F(Process, UidGidAndAdditionalGids) {
  config_["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {10, 20}}};
  ProcResult r = runSh("id -u; id -g; cat /proc/self/status");
  ASSERT_EQ(r.status, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out[0], "1000");
  EXPECT_EQ(out[1], "1001");
  EXPECT_EQ(statusField(r.out, "Uid"), "1000 1000 1000 1000");
  EXPECT_EQ(statusField(r.out, "Gid"), "1001 1001 1001 1001");
  EXPECT_EQ(statusField(r.out, "Groups"), "10 20");
}

TEST_F(Process, NoAdditionalGidsMeansNoSupplementaryGroups) {
  config_["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  ProcResult r = runSh("cat /proc/self/status");
  ASSERT_EQ(r.status, 0) << r.err;
  // The runtime's own groups (root's, on the host) must not leak in.
  EXPECT_EQ(statusField(r.out, "Groups"), "");
}

TEST_F(Process, Umask) {
  config_["process"]["user"]["umask"] = 027;
  config_["root"]["readonly"] = false;
  ProcResult r = runSh("umask; touch /tmp/f; stat -c %a /tmp/f");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"0027", "640"}));
}

TEST_F(Process, Cwd) {
  config_["process"]["cwd"] = "/usr/bin";
  ProcResult r = runSh("pwd");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), "/usr/bin");
}

TEST_F(Process, EnvIsExactlyTheConfigured) {
  config_["process"]["env"] = {"PATH=/bin", "FOO=bar baz", "EMPTY="};
  ProcResult r = runSh("env | sort");
  ASSERT_EQ(r.status, 0) << r.err;
  std::set<std::string> env;
  for (const auto& l : lines(r.out)) env.insert(l);
  EXPECT_TRUE(env.count("FOO=bar baz")) << r.out;
  EXPECT_TRUE(env.count("EMPTY=")) << r.out;
  EXPECT_TRUE(env.count("PATH=/bin")) << r.out;
  for (const auto& l : env) {
    // The runtime's environment (this test's) must not leak in; sh adds only these.
    const std::string key = l.substr(0, l.find('='));
    EXPECT_TRUE(key == "FOO" || key == "EMPTY" || key == "PATH" || key == "PWD" || key == "SHLVL" || key == "HOME")
        << "unexpected variable " << l;
  }
}

TEST_F(Process, ArgsArePassedVerbatim) {
  config_["process"]["args"] = {"/bin/echo", "a b", "$HOME", "*"};
  ProcResult r = runContainer();
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "a b $HOME *\n");
}

TEST_F(Process, ExitCodePropagates) {
  ProcResult r = runSh("exit 7");
  EXPECT_EQ(r.status, 7) << r.err;
}

TEST_F(Process, KilledBySignalIs128PlusN) {
  // A pid-namespace init cannot be killed by a signal it has no handler for,
  // so this one runs without a pid namespace.
  auto& ns = config_["linux"]["namespaces"];
  ns.erase(std::remove_if(ns.begin(), ns.end(), [](const Json& n) { return n["type"] == "pid"; }), ns.end());
  ProcResult r = runSh("kill -USR1 $$; sleep 5");
  EXPECT_EQ(r.status, 128 + SIGUSR1) << r.err;
}

TEST_F(Process, MissingExecutableFails) {
  ASSERT_EQ(runSh("true").status, 0) << "control";
  config_["process"]["args"] = {"/bin/no-such-program"};
  ProcResult r = runContainer();
  EXPECT_NE(r.status, 0);
  EXPECT_FALSE(r.timedOut);
  EXPECT_TRUE(state(id_).is_null());
  expectNothingLeft(id_);
  if (isBerth()) {
    EXPECT_NE(r.err.find("no-such-program"), std::string::npos) << r.err;
  }
}

TEST_F(Process, SameBundleRunsTwice) {
  // A control for the failure tests: the default config works, again and again.
  ASSERT_EQ(runSh("echo one").out, "one\n");
  ASSERT_EQ(runSh("echo two").out, "two\n");
}

TEST_F(Process, NoStrayDescriptors) {
  // The runtime is started with only 0, 1 and 2; ls itself holds the dir as 3.
  ProcResult r = runSh("ls /proc/self/fd");
  ASSERT_EQ(r.status, 0) << r.err;
  std::istringstream words(r.out);
  std::vector<std::string> fds;
  for (std::string w; words >> w;) fds.push_back(w);
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2", "3"}));
}

TEST_F(Process, PreserveFdsPassesAnExtraDescriptor) {
  const fs::path file = tmp_ / "passed.txt";
  writeFile(file, "through-fd-3\n");
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  config_["process"]["args"] = {"/bin/sh", "-c", "cat <&3; ls /proc/self/fd"};
  writeConfig();
  ProcResult r = rt({"run", "--preserve-fds", "1", "--bundle", bundle_.string(), id_}, {.passFds = {fd.get()}});
  ASSERT_EQ(r.status, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0], "through-fd-3");
  EXPECT_NE(r.out.find("\n0\n1\n2\n3\n4\n"), std::string::npos) << r.out;
}

TEST_F(Process, UnpreservedDescriptorIsClosed) {
  const fs::path file = tmp_ / "passed.txt";
  writeFile(file, "secret\n");
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  config_["process"]["args"] = {"/bin/sh", "-c", "(cat <&3) 2>/dev/null; echo rc=$?"};
  writeConfig();
  // fd 3 reaches the runtime but no --preserve-fds asks for it.
  ProcResult r = rt({"run", "--bundle", bundle_.string(), id_}, {.passFds = {fd.get()}});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("secret"), std::string::npos);
  EXPECT_NE(trim(r.out), "rc=0") << r.out;
  EXPECT_EQ(trim(r.out).rfind("rc=", 0), 0u) << r.out;
}

TEST_F(Process, ListenFdsAreHandedOn) {
  const fs::path file = tmp_ / "socket-stand-in.txt";
  writeFile(file, "activated\n");
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  config_["process"]["args"] = {"/bin/sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3"};
  writeConfig();
  ProcResult r = rt({"run", "--bundle", bundle_.string(), id_},
                    {.passFds = {fd.get()}, .extraEnv = {"LISTEN_FDS=1"}, .listenPidSelf = true});
  ASSERT_EQ(r.status, 0) << r.err;
  // The fds now belong to the container's pid 1.
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"1 1", "activated"}));
}

}  // namespace
}  // namespace berth::it
