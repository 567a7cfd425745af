// Rootless: an unprivileged user runs `spec --rootless` and then `run`
// (the user is UnprivilegedUserTest's; the runtime runs as it with setpriv).
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "unprivileged_user.hpp"

namespace berth::it {
namespace {

// The user and its directories come from UnprivilegedUserTest.
class Rootless : public UnprivilegedUserTest {};

TEST_F(Rootless, SpecThenRunAsAnUnprivilegedUser) {
  ProcResult spec = asUser(specDir_, {"spec", "--rootless"});
  ASSERT_EQ(spec.status, 0) << spec.err;
  Json cfg = Json::parse(readFile(specDir_ / "config.json"));
  cfg["process"]["terminal"] = false;
  cfg["process"]["args"] = {"sh", "-c", "id -u; cat /proc/self/uid_map; touch /home/x 2>/dev/null && echo wrote || echo denied"};
  fs::path hostRo = hostDir("host-ro");  // owned by host root, 0755
  cfg["mounts"].push_back({{"destination", "/home"}, {"type", "bind"}, {"source", hostRo.string()},
                           {"options", {"rbind", "rw"}}});
  writeFile(bundle_ / "config.json", cfg.dump(2));

  ProcResult r = asUser(bundle_, {"run", id_});
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> l = lines(r.out);
  ASSERT_EQ(l.size(), 3u) << r.out;
  EXPECT_EQ(l[0], "0") << "root inside";
  std::istringstream map(l[1]);
  long inside = -1, outside = -1, count = -1;
  map >> inside >> outside >> count;
  EXPECT_EQ(inside, 0);
  EXPECT_EQ(outside, static_cast<long>(uid_)) << "root inside is the user outside";
  EXPECT_EQ(l[2], "denied") << "root inside must not write where only host root may";
  EXPECT_FALSE(fs::exists(hostRo / "x"));
  // State lived under $XDG_RUNTIME_DIR/berth and is gone after the run.
  if (isBerth()) {  // runc uses $XDG_RUNTIME_DIR/runc
    ASSERT_TRUE(fs::exists(xdg_ / "berth"));
    EXPECT_TRUE(fs::is_empty(xdg_ / "berth"));
  }
}

// Podman's rootless --network=host: a sysfs mount without a network
// namespace of our own, which the kernel refuses to a user namespace. The
// runtime falls back to binding the host's /sys, read-only as asked.
TEST_F(Rootless, SysfsWithoutANetworkNamespaceFallsBackToTheHostsSys) {
  ProcResult spec = asUser(specDir_, {"spec", "--rootless"});
  ASSERT_EQ(spec.status, 0) << spec.err;
  Json cfg = Json::parse(readFile(specDir_ / "config.json"));
  cfg["process"]["terminal"] = false;
  for (const auto& ns : cfg["linux"]["namespaces"]) ASSERT_NE(ns["type"], "network") << "the test needs no netns";
  bool replaced = false;
  for (auto& m : cfg["mounts"]) {
    if (m["destination"] != "/sys") continue;
    m = {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}};
    replaced = true;
  }
  ASSERT_TRUE(replaced) << cfg["mounts"].dump();
  cfg["process"]["args"] = {"sh", "-c",
                            "test -d /sys/kernel && echo kernel; awk '$5 == \"/sys\"' /proc/self/mountinfo | wc -l;"
                            " touch /sys/x 2>/dev/null && echo wrote || echo ro"};
  writeFile(bundle_ / "config.json", cfg.dump(2));

  ProcResult r = asUser(bundle_, {"run", id_});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"kernel", "1", "ro"})) << r.out;
}

// exec into a rootless container: the new process must be in the container's
// user and pid namespaces (it sees the container's pid 1), as root inside.
TEST_F(Rootless, ExecJoinsTheContainersUserAndPidNamespaces) {
  ProcResult spec = asUser(specDir_, {"spec", "--rootless"});
  ASSERT_EQ(spec.status, 0) << spec.err;
  Json cfg = Json::parse(readFile(specDir_ / "config.json"));
  cfg["process"]["terminal"] = false;
  cfg["process"]["args"] = {"sleep", "60"};
  writeFile(bundle_ / "config.json", cfg.dump(2));
  ProcResult run = asUser(bundle_, {"run", "--detach", id_});
  ASSERT_EQ(run.status, 0) << run.err;
  // (asUser quotes every word in single quotes: none in the script.)
  ProcResult ex = asUser(bundle_, {"exec", id_, "sh", "-c",
                                   "id -u; cat /proc/1/comm; set -- $(cat /proc/self/uid_map); echo $2; exit 7"});
  EXPECT_EQ(ex.status, 7) << ex.err;
  std::vector<std::string> l = lines(ex.out);
  ASSERT_EQ(l.size(), 3u) << ex.out << ex.err;
  EXPECT_EQ(l[0], "0") << "root inside the container's user namespace";
  EXPECT_EQ(l[1], "sleep") << "pid 1 is the container's init: the exec is in its pid namespace";
  EXPECT_EQ(l[2], std::to_string(uid_)) << "root inside is the user outside";
  ProcResult del = asUser(bundle_, {"delete", "--force", id_});
  EXPECT_EQ(del.status, 0) << del.err;
}

}  // namespace
}  // namespace berth::it
