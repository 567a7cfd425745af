// The verbs that are not one container's lifecycle: spec, features, and
// kill --all across every process of a container.
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace berth::it {
namespace {

using Cli = RuntimeTest;

TEST_F(Cli, SpecWritesAConfigThatRuns) {
  const fs::path dir = hostDir("spec-bundle");
  ProcResult r = runProcess({runtimeBinary(), "spec", "--bundle", dir.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  Json spec = Json::parse(readFile(dir / "config.json"), nullptr, false);
  ASSERT_TRUE(spec.is_object()) << readFile(dir / "config.json");
  EXPECT_TRUE(spec["ociVersion"].is_string());
  EXPECT_EQ(spec["root"]["path"], "rootfs");
  EXPECT_TRUE(spec["process"]["args"].is_array());
  EXPECT_TRUE(spec["linux"]["namespaces"].is_array());

  // The generated default, made non-interactive, runs the busybox rootfs as is.
  spec["process"]["terminal"] = false;
  spec["process"]["args"] = {"/bin/echo", "from-spec"};
  spec["linux"]["cgroupsPath"] = cgroupPathFor(id_);
  config_ = spec;
  ProcResult run = runContainer();
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "from-spec\n");
}

TEST_F(Cli, SpecRefusesToOverwrite) {
  const fs::path dir = hostDir("spec-bundle");
  writeFile(dir / "config.json", "keep me");
  ProcResult r = runProcess({runtimeBinary(), "spec", "--bundle", dir.string()});
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(readFile(dir / "config.json"), "keep me");
}

// main.cpp registers only the verb's group of subcommands: the verb must be
// found after global options with values, and every other case still works.
TEST_F(Cli, VerbIsFoundAfterGlobalOptions) {
  ProcResult l = runProcess({runtimeBinary(), "--log-format", "text", "--root", (tmp_ / "r").string(), "--debug",
                             "list", "-q"});
  EXPECT_EQ(l.status, 0) << l.err;
  EXPECT_EQ(l.out, "");
  ProcResult runHelp = runProcess({runtimeBinary(), "run", "--help"});
  EXPECT_EQ(runHelp.status, 0) << runHelp.err;
  EXPECT_NE(runHelp.out.find("--bundle"), std::string::npos) << runHelp.out;
  ProcResult eq = runProcess({runtimeBinary(), "--root=" + (tmp_ / "r").string(), "state", "nope"});
  EXPECT_NE(eq.status, 0);
  EXPECT_NE(eq.err.find("does not exist"), std::string::npos) << eq.err;
  if (!isBerth()) return;  // the wording below, and the ls alias, are berth's
  ProcResult ls = runProcess({runtimeBinary(), "--root", (tmp_ / "r").string(), "ls", "-q"});
  EXPECT_EQ(ls.status, 0) << "berth's alias of list: " << ls.err;
  ProcResult bogus = runProcess({runtimeBinary(), "--root", (tmp_ / "r").string(), "bogus"});
  EXPECT_NE(bogus.status, 0);
  EXPECT_NE(bogus.err.find("unknown command \"bogus\""), std::string::npos) << bogus.err;
  ProcResult help = runProcess({runtimeBinary(), "--help"});
  EXPECT_EQ(help.status, 0);
  for (const char* verb : {"create", "exec", "update", "features"})
    EXPECT_NE(help.out.find(verb), std::string::npos) << verb << " missing from --help";
}

TEST_F(Cli, FeaturesListsHooksAndNamespaces) {
  ProcResult r = runProcess({runtimeBinary(), "features"});
  ASSERT_EQ(r.status, 0) << r.err;
  Json f = Json::parse(r.out, nullptr, false);
  ASSERT_TRUE(f.is_object()) << r.out;
  EXPECT_TRUE(f["ociVersionMin"].is_string());
  EXPECT_TRUE(f["ociVersionMax"].is_string());
  std::set<std::string> hooks;
  for (const auto& h : f["hooks"]) hooks.insert(h.get<std::string>());
  EXPECT_EQ(hooks, (std::set<std::string>{"prestart", "createRuntime", "createContainer", "startContainer",
                                          "poststart", "poststop"}));
  std::set<std::string> ns;
  for (const auto& n : f["linux"]["namespaces"]) ns.insert(n.get<std::string>());
  for (const char* need : {"pid", "network", "ipc", "uts", "mount", "user"}) EXPECT_TRUE(ns.count(need)) << need;
}

// Host pids whose parent is pid (live ones only).
std::vector<int> childrenOf(int pid) {
  std::vector<int> kids;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = readFile(e.path() / "stat");
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == pid && state != 'Z') kids.push_back(std::stoi(name));
  }
  return kids;
}

TEST_F(Cli, KillAllReachesEveryProcess) {
  const fs::path shared = hostDir("shared");
  config_["mounts"].push_back(
      {{"destination", "/shared"}, {"type", "bind"}, {"source", shared.string()}, {"options", {"rbind", "rw"}}});
  // Init survives USR1 (it has a handler) and logs it; its two children die of it.
  // The waits return once the children are gone, and the last sleep keeps init alive.
  config_["process"]["args"] = {
      "/bin/sh", "-c",
      "trap 'echo init-got-usr1 >> /shared/log' USR1; sleep 30 & sleep 30 & echo ready > /shared/ready; "
      "wait; wait; wait; exec sleep 30"};
  ASSERT_EQ(create(id_).status, 0);
  ASSERT_EQ(rt({"start", id_}).status, 0);
  for (int i = 0; i < 250 && !fs::exists(shared / "ready"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int init = state(id_).value("pid", 0);
  ASSERT_GT(init, 0);
  const std::vector<int> kids = childrenOf(init);
  ASSERT_EQ(kids.size(), 2u);

  ProcResult r = rt({"kill", "--all", id_, "USR1"});
  ASSERT_EQ(r.status, 0) << r.err;
  for (int i = 0; i < 250 && (!fs::exists(shared / "log") || !childrenOf(init).empty() ||
                              readFile("/proc/" + std::to_string(init) + "/comm") != "sleep\n");
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(readFile(shared / "log"), "init-got-usr1\n") << "init is signalled too";
  for (int kid : kids) EXPECT_FALSE(fs::exists("/proc/" + std::to_string(kid))) << "child " << kid << " survived";
  EXPECT_EQ(state(id_)["status"], "running") << "init handled the signal and lives on";
}

}  // namespace
}  // namespace berth::it
