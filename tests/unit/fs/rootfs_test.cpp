// Real mounts, each scenario in a forked child with its own (rprivate) mount
// namespace. Needs root; skipped otherwise.
#include "fs/rootfs.hpp"

#include <dirent.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cstddef>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "common/syscalls.hpp"
#include "fs_test_util.hpp"

namespace berth::fs {
namespace {

using testing::readText;
using testing::runInMountNs;
using testing::TempDir;
using testing::writeText;

spec::Mount mountOf(const std::string& dest, const std::string& type, const std::string& source,
                    std::vector<std::string> options = {}) {
  spec::Mount m;
  m.destination = dest;
  if (!type.empty()) m.type = type;
  if (!source.empty()) m.source = source;
  m.options = std::move(options);
  return m;
}

long fsType(const std::string& path) {
  struct statfs s {};
  return ::statfs(path.c_str(), &s) == 0 ? static_cast<long>(s.f_type) : -1;
}

unsigned long vfsFlags(const std::string& path) {
  struct statvfs s {};
  return ::statvfs(path.c_str(), &s) == 0 ? s.f_flag : ~0ul;
}

bool isCharDev(const std::string& path, unsigned major, unsigned minor) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(major, minor);
}

int entriesIn(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d))
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++n;
  ::closedir(d);
  return n;
}

std::set<std::string> mountPoints(const std::string& mountinfo) {
  std::set<std::string> out;
  std::istringstream in(mountinfo);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, mnt;
    f >> id >> parent >> dev >> root >> mnt;
    out.insert(mnt);
  }
  return out;
}

class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::isRoot()) GTEST_SKIP() << "needs root (mount, mknod, pivot_root)";
    rootPath = tmp / "rootfs";
    outsidePath = tmp / "outside";
    std::filesystem::create_directories(rootPath + "/etc");
    std::filesystem::create_directories(outsidePath);
    writeText(rootPath + "/marker", "rootfs");
    spec.root = spec::Root{rootPath, false};
    spec.linux = spec::Linux{};
    opts.rootfs = rootPath;
  }

  TempDir tmp;
  std::string rootPath, outsidePath;
  spec::Spec spec;
  RootfsOptions opts;
};

TEST_F(RootfsTest, BindMountReadOnlyRefusesWrites) {
  writeText(tmp / "src/file", "data");
  writeText(tmp / "single", "one file");
  spec.mounts.push_back(mountOf("/mnt/ro", "", tmp / "src", {"bind", "ro", "nosuid"}));
  spec.mounts.push_back(mountOf("/etc/single", "none", tmp / "single", {"rbind", "ro"}));
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    SCENARIO_CHECK(readText(rootPath + "/mnt/ro/file") == "data");
    errno = 0;
    int fd = ::open((rootPath + "/mnt/ro/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    SCENARIO_CHECK(fd < 0 && errno == EROFS);
    SCENARIO_CHECK((vfsFlags(rootPath + "/mnt/ro") & (ST_RDONLY | ST_NOSUID)) == (ST_RDONLY | ST_NOSUID));
    // The source itself stays writable: only the bind is read-only.
    fd = ::open((tmp / "src/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    SCENARIO_CHECK(fd >= 0);
    ::close(fd);
    SCENARIO_CHECK(readText(rootPath + "/etc/single") == "one file");
    fd = ::open((rootPath + "/etc/single").c_str(), O_WRONLY | O_CLOEXEC);
    SCENARIO_CHECK(fd < 0 && errno == EROFS);
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST_F(RootfsTest, TmpfsTakesOptionsAsData) {
  spec.mounts.push_back(mountOf("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777", "size=1m"}));
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    const std::string t = rootPath + "/tmp";
    SCENARIO_CHECK(fsType(t) == TMPFS_MAGIC);
    struct statfs s {};
    SCENARIO_CHECK(::statfs(t.c_str(), &s) == 0);
    SCENARIO_CHECK(static_cast<unsigned long>(s.f_blocks) * s.f_bsize == 1024ul * 1024ul);
    struct stat st {};
    SCENARIO_CHECK(::stat(t.c_str(), &st) == 0 && (st.st_mode & 07777) == 01777);
    SCENARIO_CHECK((vfsFlags(t) & (ST_NOSUID | ST_NODEV)) == (ST_NOSUID | ST_NODEV));
    SCENARIO_CHECK((vfsFlags(t) & ST_NOEXEC) == 0);
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST_F(RootfsTest, ProcSysfsDefaultDevicesAndDevSymlinks) {
  spec.mounts.push_back(mountOf("/proc", "proc", "proc"));
  spec.mounts.push_back(mountOf("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  spec.mounts.push_back(mountOf("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666"}));
  std::string verdict = runInMountNs([&]() -> std::string {
    ::umask(022);  // device modes must not depend on it
    SCENARIO_OK(prepareRootfs(spec, opts));
    SCENARIO_CHECK(fsType(rootPath + "/proc") == PROC_SUPER_MAGIC);
    SCENARIO_CHECK(fsType(rootPath + "/sys") == SYSFS_MAGIC);
    SCENARIO_CHECK(vfsFlags(rootPath + "/sys") & ST_RDONLY);
    SCENARIO_CHECK(fsType(rootPath + "/dev/pts") == DEVPTS_SUPER_MAGIC);
    SCENARIO_CHECK(isCharDev(rootPath + "/dev/null", 1, 3));
    SCENARIO_CHECK(isCharDev(rootPath + "/dev/urandom", 1, 9));
    SCENARIO_CHECK(isCharDev(rootPath + "/dev/tty", 5, 0));
    struct stat st {};
    SCENARIO_CHECK(::stat((rootPath + "/dev/zero").c_str(), &st) == 0 && (st.st_mode & 0777) == 0666);
    SCENARIO_CHECK(std::filesystem::read_symlink(rootPath + "/dev/fd") == "/proc/self/fd");
    SCENARIO_CHECK(std::filesystem::read_symlink(rootPath + "/dev/stderr") == "/proc/self/fd/2");
    SCENARIO_CHECK(std::filesystem::read_symlink(rootPath + "/dev/ptmx") == "pts/ptmx");
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST_F(RootfsTest, NoDevSymlinksWithoutProc) {
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    SCENARIO_CHECK(isCharDev(rootPath + "/dev/null", 1, 3));
    struct stat st {};
    SCENARIO_CHECK(::lstat((rootPath + "/dev/fd").c_str(), &st) != 0);
    SCENARIO_CHECK(::lstat((rootPath + "/dev/ptmx").c_str(), &st) != 0);
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST_F(RootfsTest, HostileDevSymlinkKeepsNodesInsideTheRoot) {
  // /dev -> a real host directory: followed as the container would see it,
  // i.e. to <rootfs><outside>, never to the host's directory.
  ASSERT_EQ(::symlink(outsidePath.c_str(), (rootPath + "/dev").c_str()), 0);
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    SCENARIO_CHECK(entriesIn(outsidePath) == 0);
    SCENARIO_CHECK(isCharDev(rootPath + outsidePath + "/null", 1, 3));
    return "";
  });
  EXPECT_EQ(verdict, "");
  EXPECT_EQ(entriesIn(outsidePath), 0);
}

TEST_F(RootfsTest, HostileDevNullSymlinkIsReplacedNotWrittenThrough) {
  writeText(outsidePath + "/passwd", "secret");
  std::filesystem::create_directories(rootPath + "/dev");
  ASSERT_EQ(::symlink((outsidePath + "/passwd").c_str(), (rootPath + "/dev/null").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../../etc/shadow-test", (rootPath + "/dev/zero").c_str()), 0);
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    SCENARIO_CHECK(isCharDev(rootPath + "/dev/null", 1, 3));
    SCENARIO_CHECK(isCharDev(rootPath + "/dev/zero", 1, 5));
    return "";
  });
  EXPECT_EQ(verdict, "");
  EXPECT_EQ(readText(outsidePath + "/passwd"), "secret");
  struct stat st {};
  ASSERT_EQ(::lstat((outsidePath + "/passwd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_NE(::lstat("/etc/shadow-test", &st), 0);
}

TEST_F(RootfsTest, ConfiguredDevicesGetModeOwnerAndType) {
  spec::Device d;
  d.path = "/dev/mine/zero";
  d.type = "c";
  d.major = 1;
  d.minor = 5;
  d.fileMode = 0600;
  d.uid = 1;
  d.gid = 2;
  spec::Device fifo;
  fifo.path = "/run/fifo";
  fifo.type = "p";
  spec.linux->devices = {d, fifo};
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    struct stat st {};
    SCENARIO_CHECK(isCharDev(rootPath + "/dev/mine/zero", 1, 5));
    SCENARIO_CHECK(::lstat((rootPath + "/dev/mine/zero").c_str(), &st) == 0);
    SCENARIO_CHECK((st.st_mode & 07777) == 0600 && st.st_uid == 1 && st.st_gid == 2);
    SCENARIO_CHECK(::lstat((rootPath + "/run/fifo").c_str(), &st) == 0 && S_ISFIFO(st.st_mode));
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST_F(RootfsTest, ConfiguredDeviceOverDifferentFileIsAnError) {
  writeText(rootPath + "/dev/conflict", "a file");
  spec::Device d;
  d.path = "/dev/conflict";
  d.type = "c";
  d.major = 1;
  d.minor = 3;
  spec.linux->devices = {d};
  std::string verdict = runInMountNs([&]() -> std::string {
    auto st = prepareRootfs(spec, opts);
    SCENARIO_CHECK(!st.ok());
    SCENARIO_CHECK(st.error().code() == EEXIST);
    SCENARIO_CHECK(readText(rootPath + "/dev/conflict") == "a file");
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST_F(RootfsTest, MountDestinationSymlinkIsResolvedInsideTheRoot) {
  ASSERT_EQ(::symlink(outsidePath.c_str(), (rootPath + "/mnt").c_str()), 0);
  spec.mounts.push_back(mountOf("/mnt/t", "tmpfs", "tmpfs"));
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    SCENARIO_CHECK(fsType(rootPath + outsidePath + "/t") == TMPFS_MAGIC);
    SCENARIO_CHECK(entriesIn(outsidePath) == 0);
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST_F(RootfsTest, MountErrorsNameOperationTargetTypeAndFlags) {
  spec.mounts.push_back(mountOf("/x", "nosuchfs", "none", {"nodev"}));
  std::string verdict = runInMountNs([&]() -> std::string {
    auto st = prepareRootfs(spec, opts);
    SCENARIO_CHECK(!st.ok());
    const std::string msg = st.error().message();
    if (msg != "mount none on /x (type nosuchfs, flags 0x4): No such device") return "message: " + msg;
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST_F(RootfsTest, CgroupMountOnV1HostHasOneMountPerHierarchy) {
  if (fsType("/sys/fs/cgroup") == CGROUP2_SUPER_MAGIC) GTEST_SKIP() << "host is cgroup v2";
  spec.mounts.push_back(mountOf("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    const std::string cg = rootPath + "/sys/fs/cgroup";
    SCENARIO_CHECK(fsType(cg) == TMPFS_MAGIC);
    SCENARIO_CHECK(vfsFlags(cg) & ST_RDONLY);
    SCENARIO_CHECK(fsType(cg + "/pids") == CGROUP_SUPER_MAGIC);
    SCENARIO_CHECK(vfsFlags(cg + "/pids") & ST_RDONLY);
    SCENARIO_CHECK(std::filesystem::exists(cg + "/pids/cgroup.procs"));
    return "";
  });
  EXPECT_EQ(verdict, "");
}

// A kernel before 5.12 has no mount_setattr (nor, before 5.2, open_tree):
// a classic seccomp filter answers both with ENOSYS, and the cgroup tree and
// the read-only paths must still come out read-only through the remounts.
void hideNewMountApi() {
  struct sock_filter prog[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open_tree, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mount_setattr, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
  };
  struct sock_fprog fprog = {static_cast<unsigned short>(sizeof prog / sizeof prog[0]), prog};
  (void)::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog);
}

TEST_F(RootfsTest, WithoutMountSetattrTheRemountFallbacksStillMakeThingsReadOnly) {
  if (fsType("/sys/fs/cgroup") == CGROUP2_SUPER_MAGIC) GTEST_SKIP() << "host is cgroup v2";
  writeText(rootPath + "/data/file", "d");
  spec.mounts.push_back(mountOf("/proc", "proc", "proc"));  // the remounts go through /proc/self/fd
  spec.mounts.push_back(mountOf("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  spec.linux->readonlyPaths = {"/data", "/proc/sys"};
  std::string verdict = runInMountNs([&]() -> std::string {
    hideNewMountApi();
    SCENARIO_CHECK(sys::mountSetattr(-1, "", 0, nullptr, 0) != 0 && errno == ENOSYS);
    SCENARIO_OK(prepareRootfs(spec, opts));
    const std::string cg = rootPath + "/sys/fs/cgroup";
    SCENARIO_CHECK(vfsFlags(cg) & ST_RDONLY);
    SCENARIO_CHECK(fsType(cg + "/pids") == CGROUP_SUPER_MAGIC);
    SCENARIO_CHECK(vfsFlags(cg + "/pids") & ST_RDONLY);
    SCENARIO_CHECK(vfsFlags(cg + "/pids") & ST_NOEXEC);
    SCENARIO_OK(enterRootfs(opts));
    SCENARIO_OK(finishRootfs(spec));
    SCENARIO_CHECK(readText("/data/file") == "d");
    int fd = ::open("/data/new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    SCENARIO_CHECK(fd < 0 && errno == EROFS);
    fd = ::open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
    SCENARIO_CHECK(fd < 0 && errno == EROFS);
    return "";
  });
  EXPECT_EQ(verdict, "");
}

// The whole sequence as the init runs it, checked from inside the new root.
TEST_F(RootfsTest, PivotMaskReadonlyAndHostMountTableUnchanged) {
  writeText(rootPath + "/secret/key", "k");
  writeText(rootPath + "/data/file", "d");
  spec.mounts.push_back(mountOf("/proc", "proc", "proc"));
  writeText(rootPath + "/etc/shadow", "hash");
  ASSERT_FALSE(readText("/proc/timer_list").empty());
  spec.linux->maskedPaths = {"/proc/timer_list", "/etc/shadow", "/secret", "/does/not/exist"};
  spec.linux->readonlyPaths = {"/data", "/proc/sys", "/missing"};
  spec.root->readonly = true;
  const std::string before = readText("/proc/self/mountinfo");
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    SCENARIO_OK(enterRootfs(opts));
    SCENARIO_OK(finishRootfs(spec));
    char cwd[256];
    SCENARIO_CHECK(::getcwd(cwd, sizeof cwd) && std::string(cwd) == "/");
    SCENARIO_CHECK(readText("/marker") == "rootfs");
    // Nothing of the host's mount tree is left below the new root.
    // (Field 4, the root inside the filesystem, does name the host path.)
    const std::set<std::string> expected = {"/",      "/proc",   "/proc/timer_list", "/etc/shadow",
                                              "/secret", "/data", "/proc/sys"};
    const std::set<std::string> seen = mountPoints(readText("/proc/self/mountinfo"));
    if (seen != expected) {
      std::string got;
      for (const auto& m : seen) got += m + " ";
      return "mount points inside: " + got;
    }
    // Masked: empty file, empty read-only tmpfs.
    SCENARIO_CHECK(std::filesystem::exists("/proc/timer_list") && readText("/proc/timer_list").empty());
    SCENARIO_CHECK(std::filesystem::exists("/etc/shadow") && readText("/etc/shadow").empty());
    SCENARIO_CHECK(fsType("/secret") == TMPFS_MAGIC && entriesIn("/secret") == 0);
    int fd = ::open("/secret/x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    SCENARIO_CHECK(fd < 0 && errno == EROFS);
    // Read-only paths and root.
    SCENARIO_CHECK(readText("/data/file") == "d");
    fd = ::open("/data/new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    SCENARIO_CHECK(fd < 0 && errno == EROFS);
    fd = ::open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
    SCENARIO_CHECK(fd < 0 && errno == EROFS);
    fd = ::open("/newfile", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    SCENARIO_CHECK(fd < 0 && errno == EROFS);
    return "";
  });
  EXPECT_EQ(verdict, "");
  EXPECT_EQ(readText("/proc/self/mountinfo"), before);
  EXPECT_EQ(readText(rootPath + "/secret/key"), "k");  // the mask hid it, did not remove it
}

TEST_F(RootfsTest, NoPivotChrootsIntoTheRootfs) {
  const std::string before = readText("/proc/self/mountinfo");
  opts.noPivot = true;
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    SCENARIO_OK(enterRootfs(opts));
    SCENARIO_OK(finishRootfs(spec));
    SCENARIO_CHECK(readText("/marker") == "rootfs");
    struct stat st {};
    SCENARIO_CHECK(::stat("/etc/passwd", &st) != 0);  // the host's is out of reach
    return "";
  });
  EXPECT_EQ(verdict, "");
  EXPECT_EQ(readText("/proc/self/mountinfo"), before);
}

TEST_F(RootfsTest, InvalidRootfsPropagationIsRejected) {
  spec.linux->rootfsPropagation = "sideways";
  std::string verdict = runInMountNs([&]() -> std::string {
    auto st = prepareRootfs(spec, opts);
    SCENARIO_CHECK(!st.ok() && st.error().code() == EINVAL);
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST_F(RootfsTest, SharedRootfsPropagationStillPivots) {
  spec.linux->rootfsPropagation = "rshared";
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(spec, opts));
    SCENARIO_OK(enterRootfs(opts));
    SCENARIO_OK(finishRootfs(spec));
    SCENARIO_CHECK(readText("/marker") == "rootfs");
    return "";
  });
  EXPECT_EQ(verdict, "");
}

}  // namespace
}  // namespace berth::fs

namespace berth::fs {
namespace {

// Inside a new user namespace (uid 0 mapped to itself): mknod is refused, so
// the default devices must arrive as binds of the host's nodes, and the
// read-only remounts must keep the flags the kernel locked.
TEST_F(RootfsTest, InUserNamespaceDevicesAreBoundAndLockedFlagsKept) {
  spec.mounts.push_back(mountOf("/proc", "proc", "proc"));
  spec.linux->readonlyPaths = {"/etc"};
  spec.root->readonly = true;
  std::string verdict = runInMountNs([&]() -> std::string {
    // The host side of our test mounts is nosuid,nodev: locked once inside.
    SCENARIO_CHECK(::mount(rootPath.c_str(), rootPath.c_str(), nullptr, MS_BIND, nullptr) == 0);
    SCENARIO_CHECK(::mount("", rootPath.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV, nullptr) == 0);
    SCENARIO_CHECK(::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) == 0);
    SCENARIO_OK(sys::writeFile("/proc/self/setgroups", "deny"));
    SCENARIO_OK(sys::writeFile("/proc/self/uid_map", "0 0 1"));
    SCENARIO_OK(sys::writeFile("/proc/self/gid_map", "0 0 1"));
    pid_t child = ::fork();  // the first child is pid 1 of the new pid namespace: proc can be mounted
    if (child == 0) {
      std::string v = [&]() -> std::string {
        SCENARIO_OK(prepareRootfs(spec, opts));
        SCENARIO_CHECK(isCharDev(rootPath + "/dev/null", 1, 3));
        SCENARIO_OK(enterRootfs(opts));
        SCENARIO_OK(finishRootfs(spec));
        SCENARIO_CHECK((vfsFlags("/") & (ST_RDONLY | ST_NOSUID | ST_NODEV)) == (ST_RDONLY | ST_NOSUID | ST_NODEV));
        SCENARIO_CHECK(vfsFlags("/etc") & ST_RDONLY);
        int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        SCENARIO_CHECK(fd >= 0 && ::write(fd, "x", 1) == 1);
        return "";
      }();
      if (!v.empty()) (void)!::write(2, v.data(), v.size());
      ::_exit(v.empty() ? 0 : 1);
    }
    int status = 0;
    SCENARIO_CHECK(child > 0 && ::waitpid(child, &status, 0) == child);
    SCENARIO_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return "";
  });
  EXPECT_EQ(verdict, "");
}

}  // namespace
}  // namespace berth::fs
