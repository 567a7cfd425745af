// The lifecycle through the CLI: create/start, state, list, kill, delete, run
// --detach/--keep, --pid-file, and the six kinds of hooks.
#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <thread>

#include "harness.hpp"

namespace berth::it {
namespace {

class Lifecycle : public RuntimeTest {
 protected:
  // Creates id_ running script; the test fails here if create does.
  void createSh(const std::string& script) {
    config_["process"]["args"] = {"/bin/sh", "-c", script};
    ProcResult r = create(id_);
    ASSERT_EQ(r.status, 0) << r.err;
  }
  void createAndStart(const std::string& script) {
    ASSERT_NO_FATAL_FAILURE(createSh(script));
    ProcResult r = rt({"start", id_});
    ASSERT_EQ(r.status, 0) << r.err;
    ASSERT_TRUE(waitForStatus(id_, "running")) << state(id_).dump();
  }
  static bool waitForFile(const fs::path& p, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!fs::exists(p)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  // A zombie counts as dead: the runtime has exited and the init, reparented,
  // waits for a reaper that is not ours.
  static bool alive(int pid) {
    if (pid <= 0) return false;
    const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
  }
};

// Checks s against the runtime-spec state schema: required ociVersion, id,
// status and bundle; status one of four words; pid a non-negative integer;
// annotations a string map.
void expectValidState(const Json& s) {
  ASSERT_TRUE(s.is_object()) << s.dump();
  for (const char* key : {"ociVersion", "id", "status", "bundle"}) {
    ASSERT_TRUE(s.contains(key)) << "state lacks required " << key << ": " << s.dump();
    EXPECT_TRUE(s[key].is_string()) << key << " must be a string: " << s.dump();
  }
  const std::string status = s["status"].get<std::string>();
  EXPECT_TRUE(status == "creating" || status == "created" || status == "running" || status == "stopped") << status;
  if (s.contains("pid")) {
    EXPECT_TRUE(s["pid"].is_number_integer()) << s.dump();
    EXPECT_GE(s["pid"].get<long long>(), 0);
  }
  if (s.contains("annotations")) {
    ASSERT_TRUE(s["annotations"].is_object());
    for (const auto& [k, v] : s["annotations"].items()) EXPECT_TRUE(v.is_string()) << k;
  }
}

TEST_F(Lifecycle, CreateDoesNotRunTheProgramStartDoes) {
  const fs::path shared = hostDir("shared");
  config_["mounts"].push_back(
      {{"destination", "/shared"}, {"type", "bind"}, {"source", shared.string()}, {"options", {"rbind", "rw"}}});
  ASSERT_NO_FATAL_FAILURE(createSh("echo started > /shared/marker; exec sleep 30"));

  Json s = state(id_);
  ASSERT_NO_FATAL_FAILURE(expectValidState(s));
  EXPECT_EQ(s["status"], "created");
  ASSERT_TRUE(s.contains("pid"));
  const int pid = s["pid"].get<int>();
  EXPECT_TRUE(alive(pid)) << "the init of a created container exists, waiting";
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(fs::exists(shared / "marker")) << "the program ran before start";

  ProcResult r = rt({"start", id_});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(waitForFile(shared / "marker"));
  EXPECT_EQ(readFile(shared / "marker"), "started\n");
  s = state(id_);
  EXPECT_EQ(s["status"], "running");
  EXPECT_EQ(s["pid"], pid) << "start runs the program in the created init";
}

TEST_F(Lifecycle, StateJsonFollowsTheSchema) {
  config_["annotations"] = {{"org.berth.test", "yes"}};
  ASSERT_NO_FATAL_FAILURE(createSh("exec sleep 30"));
  Json s = state(id_);
  ASSERT_NO_FATAL_FAILURE(expectValidState(s));
  EXPECT_EQ(s["id"], id_);
  EXPECT_EQ(s["bundle"], bundle_.string()) << "bundle is the absolute bundle path";
  EXPECT_EQ(s["status"], "created");
  EXPECT_GT(s.value("pid", 0), 0);
  EXPECT_TRUE(s["ociVersion"].get<std::string>().rfind("1.", 0) == 0) << s["ociVersion"];
  EXPECT_EQ(s["annotations"], Json({{"org.berth.test", "yes"}}));
}

TEST_F(Lifecycle, ListShowsTheContainer) {
  ASSERT_NO_FATAL_FAILURE(createSh("exec sleep 30"));
  ProcResult q = rt({"list", "-q"});
  ASSERT_EQ(q.status, 0) << q.err;
  EXPECT_EQ(lines(q.out), std::vector<std::string>{id_});

  ProcResult j = rt({"list", "--format", "json"});
  ASSERT_EQ(j.status, 0) << j.err;
  Json list = Json::parse(j.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << j.out;
  ASSERT_EQ(list.size(), 1u) << j.out;
  EXPECT_EQ(list[0]["id"], id_);
  EXPECT_EQ(list[0]["status"], "created");
  EXPECT_EQ(list[0]["bundle"], bundle_.string());

  ProcResult table = rt({"list"});
  ASSERT_EQ(table.status, 0);
  EXPECT_NE(table.out.find(id_), std::string::npos) << table.out;
}

TEST_F(Lifecycle, ListOfAnEmptyRootIsEmpty) {
  ProcResult q = rt({"list", "-q"});
  ASSERT_EQ(q.status, 0) << q.err;
  EXPECT_EQ(trim(q.out), "");
}

TEST_F(Lifecycle, KillTermStopsAContainerThatHandlesIt) {
  // Pid 1 of a namespace only receives signals it has a handler for.
  ASSERT_NO_FATAL_FAILURE(createAndStart("trap 'exit 0' TERM; sleep 30 & wait"));
  ProcResult r = rt({"kill", id_, "TERM"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(waitForStatus(id_, "stopped")) << state(id_).dump();
}

TEST_F(Lifecycle, KillAcceptsSigPrefixAndNumbers) {
  ASSERT_NO_FATAL_FAILURE(createAndStart("trap 'exit 0' USR1; sleep 30 & wait"));
  ProcResult r = rt({"kill", id_, "SIGUSR1"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(waitForStatus(id_, "stopped"));

  const std::string other = newId();
  config_["process"]["args"] = {"/bin/sleep", "30"};
  config_["linux"]["cgroupsPath"] = cgroupPathFor(other);
  ASSERT_EQ(create(other).status, 0);
  ASSERT_EQ(rt({"start", other}).status, 0);
  r = rt({"kill", other, "9"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(waitForStatus(other, "stopped"));
}

TEST_F(Lifecycle, KillWithoutSignalSendsTerm) {
  ASSERT_NO_FATAL_FAILURE(createAndStart("trap 'exit 0' TERM; sleep 30 & wait"));
  ProcResult r = rt({"kill", id_});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(waitForStatus(id_, "stopped"));
}

TEST_F(Lifecycle, KillACreatedContainer) {
  ASSERT_NO_FATAL_FAILURE(createSh("exec sleep 30"));
  ProcResult r = rt({"kill", id_, "KILL"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(waitForStatus(id_, "stopped"));
  EXPECT_EQ(rt({"delete", id_}).status, 0);
  EXPECT_TRUE(state(id_).is_null());
}

TEST_F(Lifecycle, DeleteOfARunningContainerNeedsForce) {
  ASSERT_NO_FATAL_FAILURE(createAndStart("exec sleep 30"));
  const int pid = state(id_)["pid"].get<int>();
  ProcResult r = rt({"delete", id_});
  EXPECT_NE(r.status, 0) << "delete of a running container must fail";
  EXPECT_EQ(state(id_)["status"], "running");
  EXPECT_TRUE(alive(pid));

  r = rt({"delete", "--force", id_});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(state(id_).is_null()) << "state is gone after delete";
  // delete --force waits for the init to die; at most a moment for the reaper.
  for (int i = 0; i < 50 && alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(alive(pid));
  expectNothingLeft(id_);
}

TEST_F(Lifecycle, DeleteOfAStoppedContainer) {
  ASSERT_NO_FATAL_FAILURE(createSh("exit 3"));
  ASSERT_EQ(rt({"start", id_}).status, 0);
  ASSERT_TRUE(waitForStatus(id_, "stopped"));
  ProcResult r = rt({"delete", id_});
  EXPECT_EQ(r.status, 0) << r.err;
  expectNothingLeft(id_);
}

TEST_F(Lifecycle, StartTwiceFails) {
  ASSERT_NO_FATAL_FAILURE(createAndStart("exec sleep 30"));
  ProcResult r = rt({"start", id_});
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(state(id_)["status"], "running");
}

TEST_F(Lifecycle, RunDetachReturnsWhileItRuns) {
  config_["process"]["args"] = {"/bin/sleep", "30"};
  writeConfig();
  ProcResult r = rt({"run", "--detach", "--bundle", bundle_.string(), id_}, {.timeout = std::chrono::seconds(10)});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(r.timedOut);
  EXPECT_EQ(state(id_)["status"], "running");
}

TEST_F(Lifecycle, RunKeepLeavesAStoppedContainer) {
  config_["process"]["args"] = {"/bin/sh", "-c", "exit 4"};
  writeConfig();
  ProcResult r = rt({"run", "--keep", "--bundle", bundle_.string(), id_});
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(state(id_)["status"], "stopped");
  EXPECT_EQ(rt({"delete", id_}).status, 0);
}

TEST_F(Lifecycle, RunWithoutKeepRemovesTheContainer) {
  ProcResult r = runSh("true");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(state(id_).is_null());
  expectNothingLeft(id_);
}

TEST_F(Lifecycle, PidFileHoldsTheInitPid) {
  config_["process"]["args"] = {"/bin/sleep", "30"};
  writeConfig();
  const fs::path pidFile = tmp_ / "init.pid";
  ProcResult r = rt({"create", "--bundle", bundle_.string(), "--pid-file", pidFile.string(), id_});
  ASSERT_EQ(r.status, 0) << r.err;
  ASSERT_TRUE(fs::exists(pidFile));
  EXPECT_EQ(std::stoi(readFile(pidFile)), state(id_)["pid"].get<int>());
}

// Each hook appends "<name> <first arg>" and the state it got on stdin to one
// log. The hooks dir is bind-mounted at the same path inside the container,
// so the same path works for hooks run on either side.
class Hooks : public Lifecycle {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(Lifecycle::SetUp());
    dir_ = hostDir("hooks");
    log_ = dir_ / "log";
    config_["mounts"].push_back(
        {{"destination", dir_.string()}, {"type", "bind"}, {"source", dir_.string()}, {"options", {"rbind", "rw"}}});
  }
  Json hook(const std::string& name, int exitCode = 0) {
    const fs::path script = dir_ / (name + ".sh");
    writeFile(script,
              "#!/bin/sh\n{ echo \"" + name + " $1\"; cat; echo; } >> " + log_.string() + "\nexit " +
                  std::to_string(exitCode) + "\n",
              fs::perms(0755));
    return {{"path", script.string()}, {"args", {name, "arg-" + name}}, {"env", {"PATH=/usr/bin:/bin"}}};
  }
  struct Entry {
    std::string line;
    Json state;
  };
  std::vector<Entry> entries() const {
    std::vector<Entry> out;
    for (const auto& l : lines(readFile(log_))) {
      if (trim(l).empty()) continue;
      if (l[0] == '{' && !out.empty()) {
        out.back().state = Json::parse(l, nullptr, false);
      } else {
        out.push_back({l, nullptr});
      }
    }
    return out;
  }
  fs::path dir_, log_;
};

TEST_F(Hooks, AllSixRunInOrderWithState) {
  const std::vector<std::string> kinds = {"prestart", "createRuntime", "createContainer",
                                          "startContainer", "poststart", "poststop"};
  for (const auto& k : kinds) config_["hooks"][k] = {hook(k)};
  ProcResult r = runSh("echo 'main arg-main' >> " + log_.string());
  ASSERT_EQ(r.status, 0) << r.err;

  auto got = entries();
  std::vector<std::string> names;
  for (const auto& e : got) names.push_back(e.line);
  ASSERT_EQ(names.size(), 7u) << readFile(log_);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 3),
            (std::vector<std::string>{"prestart arg-prestart", "createRuntime arg-createRuntime",
                                      "createContainer arg-createContainer"}));
  EXPECT_EQ(names[6], "poststop arg-poststop");
  const auto at = [&](const std::string& line) { return std::find(names.begin(), names.end(), line) - names.begin(); };
  EXPECT_LT(at("startContainer arg-startContainer"), at("main arg-main"));
  // The program and poststart race; startContainer comes before both by the
  // spec, but runc 1.1 runs poststart while its init is still in startContainer.
  if (isBerth()) {
    EXPECT_LT(at("startContainer arg-startContainer"), at("poststart arg-poststart"));
  }
  EXPECT_LT(at("poststart arg-poststart"), 6);

  const std::map<std::string, std::string> wantStatus = {
      {"prestart", "creating"},       {"createRuntime", "creating"}, {"createContainer", "creating"},
      {"startContainer", "created"}, {"poststart", "running"},       {"poststop", "stopped"}};
  for (const auto& e : got) {
    const std::string kind = e.line.substr(0, e.line.find(' '));
    if (kind == "main") continue;
    ASSERT_TRUE(e.state.is_object()) << kind << " got no state on stdin";
    EXPECT_EQ(e.state.value("id", ""), id_) << kind;
    EXPECT_EQ(e.state.value("bundle", ""), bundle_.string()) << kind;
    const std::string status = e.state.value("status", "");
    if (kind == "poststart" && !isBerth()) {
      EXPECT_TRUE(status == "created" || status == "running") << status;  // runc 1.1 says "created"
    } else {
      EXPECT_EQ(status, wantStatus.at(kind)) << kind;
    }
    if (kind != "poststop") {
      EXPECT_GT(e.state.value("pid", 0), 0) << kind << " sees the init's pid";
    }
  }
}

TEST_F(Hooks, FailingPoststartFailsTheRun) {
  config_["hooks"]["poststart"] = {hook("poststart", 1)};
  config_["hooks"]["poststop"] = {hook("poststop")};
  ProcResult r = runSh("exec sleep 30", {.timeout = std::chrono::seconds(15)});
  EXPECT_NE(r.status, 0);
  EXPECT_FALSE(r.timedOut) << "the container must be stopped, not waited for";
  EXPECT_TRUE(state(id_).is_null()) << state(id_).dump();
  auto got = entries();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front().line, "poststart arg-poststart");
  EXPECT_EQ(got.back().line, "poststop arg-poststop") << "poststop still runs as the container is destroyed";
}

TEST_F(Hooks, FailingCreateRuntimeFailsCreateAndLeavesNothing) {
  config_["hooks"]["createRuntime"] = {hook("createRuntime", 2)};
  config_["hooks"]["startContainer"] = {hook("startContainer")};
  config_["process"]["args"] = {"/bin/sleep", "30"};
  ProcResult r = create(id_);
  EXPECT_NE(r.status, 0);
  EXPECT_TRUE(state(id_).is_null());
  auto got = entries();
  ASSERT_EQ(got.size(), 1u) << readFile(log_);
  EXPECT_EQ(got[0].line, "createRuntime arg-createRuntime");
  expectNothingLeft(id_);
}

}  // namespace
}  // namespace berth::it
