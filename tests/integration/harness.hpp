// The integration harness: runs the runtime under test (berth-runtime, or the
// binary named by $BERTH_TEST_RUNTIME, e.g. runc) against real bundles.
//
// Every test gets a fresh temp dir holding a bundle (a private copy of the
// busybox rootfs, so tests that write, chown or mknod cannot disturb each
// other) and a --root state dir. Teardown force-deletes whatever containers
// the test made and fails the test if mounts, state or cgroups remain.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace berth::it {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct ProcResult {
  int status = -1;  // exit code; 128+N when killed by signal N; -1 when it could not be started
  bool timedOut = false;
  std::string out;
  std::string err;
};

struct RunOptions {
  std::chrono::milliseconds timeout{20000};
  // Descriptors the child gets as 3, 4, ... (everything else above 2 is closed).
  std::vector<int> passFds;
  std::vector<std::string> extraEnv;  // KEY=VALUE
  // Sets LISTEN_PID to the child's own pid, as a socket-activating parent would.
  bool listenPidSelf = false;
};

// Runs argv (PATH lookup) with stdin from /dev/null, collecting stdout and
// stderr until the child exits. Stops at exit rather than at EOF: after
// `create` the container's init still holds the pipes. On timeout the child's
// process group is killed.
ProcResult runProcess(const std::vector<std::string>& argv, const RunOptions& opts = {});

// The runtime under test: $BERTH_TEST_RUNTIME, else the built berth-runtime.
std::string runtimeBinary();
// Guards message checks that only berth promises (runc words errors its own way).
bool isBerth();

std::string readFile(const fs::path& path);
void writeFile(const fs::path& path, const std::string& content, fs::perms mode = fs::perms(0644));
// Mount points (from /proc/self/mountinfo) at or below dir.
std::vector<std::string> mountsUnder(const fs::path& dir);
// Pids whose command line contains needle (other than ours).
std::vector<int> processesMatching(const std::string& needle);
// Lines of text, without empty trailing ones.
std::vector<std::string> lines(const std::string& text);
// Trims whitespace at both ends.
std::string trim(const std::string& s);

// A runtime-spec config close to `runc spec`, but without a terminal and with
// the given args.
Json defaultConfig(const std::vector<std::string>& args);

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // `<runtime> --root <root_> args...`
  ProcResult rt(const std::vector<std::string>& args, const RunOptions& opts = {});
  // Writes config_ to the bundle.
  void writeConfig();
  // Sets the process to `/bin/sh -c script`, writes the config and runs the
  // container to completion; out is what the container printed.
  ProcResult runSh(const std::string& script, const RunOptions& opts = {});
  // `run --bundle <bundle_> <id_>` with the current config_, written first.
  ProcResult runContainer(const RunOptions& opts = {});
  // `create --bundle <bundle_> <id>` with the current config_, written first.
  ProcResult create(const std::string& id, const RunOptions& opts = {});
  // Parsed `state <id>`, or null when the command fails or prints no JSON.
  Json state(const std::string& id);
  // Polls `state` until status matches or the timeout passes.
  bool waitForStatus(const std::string& id, const std::string& status,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // A further unique container id, force-deleted at teardown.
  std::string newId();
  // A fresh directory on the host (inside this test's temp dir).
  fs::path hostDir(const std::string& name);
  // Asserts a failed command left no trace: nothing under --root, no
  // processes naming the id, no mounts below the bundle.
  void expectNothingLeft(const std::string& id);
  // The test's cgroupsPath for id (absolute, at the top of every hierarchy, so
  // no cgroup is made inside the ones this machine already has).
  static std::string cgroupPathFor(const std::string& id);

  fs::path tmp_;     // this test's temp dir, removed at teardown
  fs::path bundle_;  // tmp_/bundle with config.json and rootfs/
  fs::path rootfs_;
  fs::path root_;  // --root
  std::string id_;  // the main container id
  Json config_;
  std::vector<std::string> ids_;  // every id handed out, for teardown
};

}  // namespace berth::it
