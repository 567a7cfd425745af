// The container's view of the filesystem: its mount table, a read-only root,
// masked and read-only paths, /dev, extra devices, bind and tmpfs mounts.
#include <sys/stat.h>

#include <map>
#include <set>
#include <sstream>

#include "harness.hpp"

namespace berth::it {
namespace {

using Filesystem = RuntimeTest;

// mount point -> filesystem type, from mountinfo text.
std::multimap<std::string, std::string> mountTable(const std::string& mountinfo) {
  std::multimap<std::string, std::string> table;
  for (const auto& line : lines(mountinfo)) {
    std::istringstream fields(line);
    std::string id, parent, devno, rootInFs, mountPoint;
    fields >> id >> parent >> devno >> rootInFs >> mountPoint;
    const auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream tail(line.substr(sep + 3));
    std::string fstype;
    tail >> fstype;
    table.emplace(mountPoint, fstype);
  }
  return table;
}

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

TEST_F(Filesystem, MountTableHasTheConfiguredMounts) {
  ProcResult r = runSh("cat /proc/self/mountinfo");
  ASSERT_EQ(r.status, 0) << r.err;
  auto table = mountTable(r.out);
  const std::map<std::string, std::string> want = {{"/proc", "proc"},     {"/dev", "tmpfs"},
                                                   {"/dev/pts", "devpts"}, {"/dev/shm", "tmpfs"},
                                                   {"/dev/mqueue", "mqueue"}, {"/sys", "sysfs"}};
  for (const auto& [point, type] : want) {
    auto [b, e] = table.equal_range(point);
    bool found = false;
    for (auto it = b; it != e; ++it) found |= it->second == type;
    EXPECT_TRUE(found) << type << " on " << point << " missing from\n" << r.out;
  }
  EXPECT_EQ(table.count("/"), 1u) << "exactly one root mount\n" << r.out;
  // Nothing of the host's mount table is visible (the old root is gone).
  for (const auto& [point, type] : table) {
    EXPECT_TRUE(point == "/" || point.rfind("/proc", 0) == 0 || point.rfind("/dev", 0) == 0 ||
                point.rfind("/sys", 0) == 0)
        << "unexpected mount " << point << " (" << type << ")";
  }
}

TEST_F(Filesystem, ReadonlyRootRefusesWrites) {
  ProcResult r = runSh("touch /newfile 2>&1; echo rc=$?; touch /tmp/newfile 2>&1; echo rc=$?");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Read-only file system"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("rc=0"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(rootfs_ / "newfile"));
}

TEST_F(Filesystem, WritableRootAcceptsWrites) {
  config_["root"]["readonly"] = false;
  ProcResult r = runSh("echo hi > /newfile");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(readFile(rootfs_ / "newfile"), "hi\n");
}

TEST_F(Filesystem, MaskedFilesReadEmpty) {
  ProcResult r = runSh("for f in /proc/kcore /proc/keys /proc/timer_list; do echo $f $(cat $f | wc -c); done");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"/proc/kcore 0", "/proc/keys 0", "/proc/timer_list 0"}));
}

TEST_F(Filesystem, MaskedDirectoryIsEmpty) {
  fs::create_directories(rootfs_ / "secret");
  writeFile(rootfs_ / "secret" / "key", "hidden\n");
  writeFile(rootfs_ / "etc" / "token", "hidden\n");
  config_["linux"]["maskedPaths"].push_back("/secret");
  config_["linux"]["maskedPaths"].push_back("/etc/token");
  config_["linux"]["maskedPaths"].push_back("/no/such/path");  // absent paths are skipped
  // Masked directories after the first share its read-only tmpfs: none of
  // them may take a write, or it would show in all of them.
  ProcResult r = runSh("ls -A /secret | wc -l; ls -A /sys/firmware | wc -l; cat /etc/token | wc -c; "
                       "touch /secret/x 2>/dev/null; echo rc=$?; "
                       "for d in /sys/firmware /proc/acpi; do [ -d $d ] || continue; "
                       "mount -o remount,rw $d 2>/dev/null; mkdir $d/y 2>/dev/null && echo wrote $d; done; "
                       "ls -A /secret");
  ASSERT_EQ(r.status, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_EQ(out.size(), 4u) << r.out;
  EXPECT_EQ(trim(out[0]), "0") << "a masked directory shows nothing";
  EXPECT_EQ(trim(out[1]), "0") << "/sys/firmware is masked";
  EXPECT_EQ(trim(out[2]), "0") << "a masked file reads empty";
  EXPECT_NE(out[3], "rc=0") << "a masked directory takes no writes";
  EXPECT_EQ(readFile(rootfs_ / "secret" / "key"), "hidden\n");
}

TEST_F(Filesystem, ReadonlyPathsRefuseWrites) {
  fs::create_directories(rootfs_ / "data");
  config_["root"]["readonly"] = false;
  config_["linux"]["readonlyPaths"].push_back("/data");
  ProcResult r = runSh("(echo x > /proc/sys/kernel/hostname) 2>&1; echo rc=$?; "
                       "touch /data/f 2>&1; echo rc=$?; touch /ok; echo rc=$?");
  ASSERT_EQ(r.status, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_EQ(out.size(), 5u) << r.out;
  EXPECT_NE(out[0].find("Read-only file system"), std::string::npos) << r.out;
  EXPECT_NE(out[1], "rc=0");
  EXPECT_NE(out[2].find("Read-only file system"), std::string::npos) << r.out;
  EXPECT_NE(out[3], "rc=0");
  EXPECT_EQ(out[4], "rc=0") << "only the listed paths are read-only";
  EXPECT_FALSE(fs::exists(rootfs_ / "data" / "f"));
}

TEST_F(Filesystem, DevHasTheStandardNodesAndNothingElse) {
  ProcResult r = runSh("ls -A /dev; echo ---; cd /dev && stat -c '%n %t:%T %F' null zero full random urandom tty");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto sep = r.out.find("---\n");
  ASSERT_NE(sep, std::string::npos) << r.out;
  const std::set<std::string> seen = words(r.out.substr(0, sep));
  for (const char* need : {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "fd", "stdin", "stdout",
                           "stderr", "pts", "shm", "mqueue"}) {
    EXPECT_TRUE(seen.count(need)) << "/dev/" << need << " missing";
  }
  // core (-> /proc/kcore) and console are optional extras runtimes add.
  const std::set<std::string> allowed = {"null", "zero",   "full",   "random", "urandom", "tty",    "ptmx",  "fd",
                                         "stdin", "stdout", "stderr", "pts",   "shm",     "mqueue", "core", "console"};
  for (const auto& name : seen) EXPECT_TRUE(allowed.count(name)) << "unexpected /dev/" << name;
  EXPECT_EQ(lines(r.out.substr(sep + 4)),
            (std::vector<std::string>{"null 1:3 character special file", "zero 1:5 character special file",
                                      "full 1:7 character special file", "random 1:8 character special file",
                                      "urandom 1:9 character special file", "tty 5:0 character special file"}));
}

TEST_F(Filesystem, DevSymlinksPointIntoProc) {
  ProcResult r = runSh("for l in fd stdin stdout stderr; do readlink /dev/$l; done; echo ok > /dev/null && echo null-ok");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"/proc/self/fd", "/proc/self/fd/0", "/proc/self/fd/1",
                                                    "/proc/self/fd/2", "null-ok"}));
}

TEST_F(Filesystem, LinuxDevicesAreCreated) {
  config_["linux"]["devices"] = {
      {{"path", "/dev/it-null"}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"fileMode", 0620}, {"uid", 0},
       {"gid", 0}},
      {{"path", "/dev/it/loop"}, {"type", "b"}, {"major", 7}, {"minor", 0}, {"fileMode", 0600}, {"uid", 12},
       {"gid", 34}}};
  ProcResult r = runSh("stat -c '%n %t:%T %a %u:%g %F' /dev/it-null /dev/it/loop");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"/dev/it-null 1:3 620 0:0 character special file",
                                                    "/dev/it/loop 7:0 600 12:34 block special file"}));
}

// Without a /dev tmpfs the nodes go into the image's /dev. A setgid /dev
// hands new nodes its own group, so the runtime must notice and chown them to
// what the config (or the default, 0) says rather than trust mknod.
TEST_F(Filesystem, DevicesInASetgidImageDevGetTheConfiguredOwner) {
  auto& mounts = config_["mounts"];
  for (auto it = mounts.begin(); it != mounts.end();) it = (*it)["destination"] == "/dev" ? mounts.erase(it) : it + 1;
  fs::create_directories(rootfs_ / "dev");
  ASSERT_EQ(::chown((rootfs_ / "dev").c_str(), 0, 50), 0);
  ASSERT_EQ(::chmod((rootfs_ / "dev").c_str(), 02775), 0);
  config_["linux"]["devices"] = {{{"path", "/dev/it-null"}, {"type", "c"}, {"major", 1}, {"minor", 3},
                                  {"fileMode", 0640}, {"uid", 0}, {"gid", 0}}};
  ProcResult r = runSh("stat -c '%n %a %u:%g' /dev/null /dev/it-null");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"/dev/null 666 0:0", "/dev/it-null 640 0:0"}));
}

TEST_F(Filesystem, BindMountsReadWriteAndReadOnly) {
  const fs::path rw = hostDir("rw"), ro = hostDir("ro");
  writeFile(rw / "in.txt", "from-host\n");
  writeFile(ro / "in.txt", "ro-host\n");
  config_["mounts"].push_back({{"destination", "/mnt/rw"}, {"type", "bind"}, {"source", rw.string()},
                               {"options", {"rbind", "rw"}}});
  config_["mounts"].push_back({{"destination", "/mnt/ro"}, {"type", "bind"}, {"source", ro.string()},
                               {"options", {"rbind", "ro"}}});
  ProcResult r = runSh("cat /mnt/rw/in.txt /mnt/ro/in.txt; echo out > /mnt/rw/out.txt; echo rc=$?; "
                       "touch /mnt/ro/x 2>&1; echo rc=$?");
  ASSERT_EQ(r.status, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_EQ(out.size(), 5u) << r.out;
  EXPECT_EQ(out[0], "from-host");
  EXPECT_EQ(out[1], "ro-host");
  EXPECT_EQ(out[2], "rc=0");
  EXPECT_NE(out[3].find("Read-only file system"), std::string::npos) << r.out;
  EXPECT_EQ(readFile(rw / "out.txt"), "out\n");
  EXPECT_FALSE(fs::exists(ro / "x"));
  EXPECT_TRUE(fs::exists(rootfs_ / "mnt" / "rw")) << "the mount point is made inside the rootfs";
}

TEST_F(Filesystem, BindMountOfAFile) {
  const fs::path dir = hostDir("files");
  writeFile(dir / "motd", "bound-file\n");
  config_["mounts"].push_back({{"destination", "/etc/motd"}, {"type", "bind"}, {"source", (dir / "motd").string()},
                               {"options", {"bind", "ro"}}});
  ProcResult r = runSh("cat /etc/motd");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "bound-file\n");
}

TEST_F(Filesystem, TmpfsMountWithSizeAndMode) {
  config_["mounts"].push_back({{"destination", "/scratch"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                               {"options", {"nosuid", "size=1m", "mode=1750"}}});
  ProcResult r = runSh("stat -c %a /scratch; dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>&1; echo rc=$?; "
                       "grep ' /scratch ' /proc/self/mountinfo");
  ASSERT_EQ(r.status, 0) << r.err;
  auto out = lines(r.out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0], "1750");
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << "2 MiB must not fit in 1 MiB\n" << r.out;
  EXPECT_NE(r.out.find("size=1024k"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nosuid"), std::string::npos) << r.out;
}

TEST_F(Filesystem, RootfsPathMayBeAbsolute) {
  config_["root"]["path"] = rootfs_.string();
  ProcResult r = runSh("echo abs");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "abs\n");
}

}  // namespace
}  // namespace berth::it
