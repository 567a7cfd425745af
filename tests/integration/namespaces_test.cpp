// Namespaces as seen from inside: new ones differ from the host's, the
// network namespace is empty, joining by path works, a user namespace maps ids.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <thread>
#include <sstream>

#include "harness.hpp"

namespace berth::it {
namespace {

using Namespaces = RuntimeTest;

std::string hostNs(const std::string& name) {
  return fs::read_symlink("/proc/self/ns/" + name).string();
}

TEST_F(Namespaces, IpcNamespaceDiffersFromHost) {
  ProcResult r = runSh("readlink /proc/self/ns/ipc");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(trim(r.out).rfind("ipc:[", 0) == 0) << r.out;
  EXPECT_NE(trim(r.out), hostNs("ipc"));
}

TEST_F(Namespaces, EveryConfiguredNamespaceIsNew) {
  ProcResult r = runSh("for n in pid ipc uts mnt net; do readlink /proc/self/ns/$n; done");
  ASSERT_EQ(r.status, 0) << r.err;
  auto got = lines(r.out);
  const std::vector<std::string> names = {"pid", "ipc", "uts", "mnt", "net"};
  ASSERT_EQ(got.size(), names.size()) << r.out;
  for (size_t i = 0; i < names.size(); ++i) EXPECT_NE(got[i], hostNs(names[i])) << names[i];
}

TEST_F(Namespaces, UnlistedNamespaceIsShared) {
  auto& ns = config_["linux"]["namespaces"];
  ns.erase(std::remove_if(ns.begin(), ns.end(), [](const Json& n) { return n["type"] == "ipc"; }), ns.end());
  ProcResult r = runSh("readlink /proc/self/ns/ipc");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(trim(r.out), hostNs("ipc"));
}

TEST_F(Namespaces, JoinByPath) {
  // A host process holds a uts namespace of its own; the container joins it by path.
  const pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    ::execlp("unshare", "unshare", "--uts", "/bin/sh", "-c", "hostname joined-uts && exec sleep 30",
             static_cast<char*>(nullptr));
    _exit(127);
  }
  const std::string nsPath = "/proc/" + std::to_string(holder) + "/ns/uts";
  std::string nsId;
  for (int i = 0; i < 250; ++i) {
    std::error_code ec;
    nsId = fs::read_symlink(nsPath, ec).string();
    // Ready once the namespace is new and its hostname set (the sleep has replaced sh).
    if (!ec && nsId != hostNs("uts") && readFile("/proc/" + std::to_string(holder) + "/comm") == "sleep\n") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& n : config_["linux"]["namespaces"]) {
    if (n["type"] == "uts") n["path"] = nsPath;
  }
  config_.erase("hostname");
  ProcResult r = runSh("readlink /proc/self/ns/uts; hostname");
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{nsId, "joined-uts"}));
}

TEST_F(Namespaces, NetworkNamespaceHasOnlyLoopback) {
  ProcResult r = runSh("ls /sys/class/net; tail -n +3 /proc/net/dev | cut -d: -f1");
  ASSERT_EQ(r.status, 0) << r.err;
  auto got = lines(r.out);
  ASSERT_EQ(got.size(), 2u) << r.out;
  EXPECT_EQ(trim(got[0]), "lo");
  EXPECT_EQ(trim(got[1]), "lo");
}

TEST_F(Namespaces, UserNamespaceMapsRootToAnUnprivilegedUid) {
  constexpr unsigned kHostId = 200000;
  config_["linux"]["namespaces"].push_back({{"type", "user"}});
  config_["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", kHostId}, {"size", 65536}}};
  config_["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", kHostId}, {"size", 65536}}};
  config_["root"]["readonly"] = false;
  // The mapped root must own its rootfs to write to it.
  ProcResult chown = runProcess({"chown", "-R", std::to_string(kHostId) + ":" + std::to_string(kHostId),
                                 rootfs_.string()});
  ASSERT_EQ(chown.status, 0) << chown.err;
  ProcResult r = runSh("id -u; cat /proc/self/uid_map; touch /tmp/made-inside");
  if (r.status != 0 && !isBerth()) GTEST_SKIP() << "runtime cannot make a user namespace here: " << r.err;
  ASSERT_EQ(r.status, 0) << r.err;
  auto got = lines(r.out);
  ASSERT_EQ(got.size(), 2u) << r.out;
  EXPECT_EQ(got[0], "0");
  std::istringstream map(got[1]);
  unsigned inside = 1, outside = 0, count = 0;
  map >> inside >> outside >> count;
  EXPECT_EQ(inside, 0u);
  EXPECT_EQ(outside, kHostId);
  EXPECT_EQ(count, 65536u);
  struct stat st {};
  ASSERT_EQ(::stat((rootfs_ / "tmp" / "made-inside").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kHostId) << "a file root made inside belongs to the mapped uid outside";
  EXPECT_EQ(st.st_gid, kHostId);
}

}  // namespace
}  // namespace berth::it
