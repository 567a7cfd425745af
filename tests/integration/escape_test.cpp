// One test per known class of container-runtime escape: each builds the
// hostile bundle, runs the attack for real, and asserts the host is
// untouched. The CVE named in each test is the advisory whose mechanism it
// reproduces.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "common/unique_fd.hpp"
#include "harness.hpp"

namespace berth::it {
namespace {

using Escape = RuntimeTest;

std::string contentOf(const fs::path& p) { return readFile(p); }

unsigned long long capField(const std::string& status, const std::string& key) {
  for (const auto& line : lines(status))
    if (line.rfind(key + ":", 0) == 0) return std::stoull(trim(line.substr(key.size() + 1)), nullptr, 16);
  return ~0ULL;
}

void replaceWithSymlink(const fs::path& link, const fs::path& target) {
  std::error_code ec;
  fs::remove_all(link, ec);
  fs::create_symlink(target, link);
}

// ---- CVE-2019-5736: the runtime binary run (and then rewritten) from inside ----

TEST_F(Escape, Cve2019_5736_EntrypointResolvingToTheRuntimeIsRefused) {
  const std::string bin = runtimeBinary();
  if (bin.find('/') == std::string::npos) GTEST_SKIP() << "needs the runtime's path to checksum it";
  const std::string before = contentOf(bin);
  writeFile(rootfs_ / "evil-shebang", "#!/proc/self/exe\n", fs::perms(0755));
  writeFile(rootfs_ / "evil-nested", "#!/evil-shebang\n", fs::perms(0755));
  fs::create_symlink("/proc/self/exe", rootfs_ / "evil-link");
  for (const char* entry : {"/evil-shebang", "/evil-nested", "/evil-link", "/proc/self/exe", "/proc/1/exe"}) {
    SCOPED_TRACE(entry);
    // Were the runtime run, this script would be its "bundle": it tries to
    // reopen the binary for writing once it could.
    config_["process"]["args"] = {entry};
    ProcResult r = runContainer();
    EXPECT_NE(r.status, 0) << r.out;
    if (isBerth()) {
      EXPECT_NE(r.err.find("CVE-2019-5736"), std::string::npos) << r.err;
    }
    rt({"delete", "--force", id_});
  }
  EXPECT_TRUE(contentOf(bin) == before) << "the runtime binary changed";
}

TEST_F(Escape, Cve2019_5736_ContainerCannotWriteTheBinaryItRunsFrom) {
  // Control: an ordinary container process reopening its own /proc/self/exe
  // for writing gets no further than its own (private copy of) busybox.
  const std::string bin = runtimeBinary();
  if (bin.find('/') == std::string::npos) GTEST_SKIP() << "needs the runtime's path";
  const std::string before = contentOf(bin);
  ProcResult r = runSh("for p in /proc/[0-9]*; do ( : >>$p/exe ) 2>/dev/null && echo wrote $p; done; echo done");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out).back(), "done");
  EXPECT_TRUE(contentOf(bin) == before);
}

// ---- CVE-2019-16884, CVE-2019-19921, CVE-2023-27561: a hostile /proc ----

TEST_F(Escape, Cve2019_16884_ProcIsASymlinkToTheHost) {
  const fs::path host = hostDir("host-target");
  writeFile(host / "marker", "host");
  for (const fs::path& target : {fs::path(host), fs::path("../../../../../../..") / host.relative_path()}) {
    SCOPED_TRACE(target.string());
    replaceWithSymlink(rootfs_ / "proc", target);
    ProcResult r = runSh("cat /proc/self/status >/dev/null && echo procok");
    EXPECT_TRUE(mountsUnder(host).empty()) << "proc was mounted on the host";
    EXPECT_EQ(fs::directory_iterator(host)->path().filename(), "marker");
    EXPECT_EQ(std::distance(fs::directory_iterator(host), fs::directory_iterator()), 1) << "files appeared on the host";
    rt({"delete", "--force", id_});
  }
}

TEST_F(Escape, Cve2019_19921_ProcIsAFakeDirectoryOverMountedByAVolume) {
  // A bind mount lands a plain directory on /proc after procfs: anything the
  // runtime then writes "into /proc" would go to the host directory.
  const fs::path host = hostDir("fake-proc");
  fs::create_directories(host / "self" / "attr");
  writeFile(host / "self" / "attr" / "exec", "");
  writeFile(host / "self" / "oom_score_adj", "");
  config_["mounts"].push_back({{"destination", "/proc"}, {"type", "bind"}, {"source", host.string()}, {"options", {"rbind"}}});
  config_["process"]["oomScoreAdj"] = 500;
  config_["process"]["apparmorProfile"] = "berth-unconfined";
  ProcResult r = runSh("echo ran");
  EXPECT_EQ(readFile(host / "self" / "attr" / "exec"), "");
  EXPECT_EQ(readFile(host / "self" / "oom_score_adj"), "");
}

// ---- CVE-2021-30465, CVE-2024-45310: mount destinations through symlinks ----

TEST_F(Escape, Cve2021_30465_MountDestinationSymlinkedToTheHost) {
  const fs::path host = hostDir("host-root");
  writeFile(host / "marker", "host");
  fs::create_directories(rootfs_ / "vol");
  fs::create_symlink(host, rootfs_ / "vol" / "abs");
  fs::create_symlink("../../../../../../../../..", rootfs_ / "vol" / "up");
  const fs::path up = fs::path("../../../../../../../../..");
  for (const char* dest : {"/vol/abs/pwn", "/vol/abs", "/vol/up/" }) {
    SCOPED_TRACE(dest);
    Json cfg = config_;
    std::string d = dest;
    if (d.back() == '/') d += host.relative_path().string() + "/pwn";
    config_["mounts"].push_back({{"destination", d}, {"type", "tmpfs"}, {"source", "tmpfs"}});
    ProcResult r = runSh("echo ran");
    EXPECT_TRUE(mountsUnder(host).empty()) << "a mount landed on the host";
    EXPECT_FALSE(fs::exists(host / "pwn")) << "a directory was created on the host";
    EXPECT_EQ(std::distance(fs::directory_iterator(host), fs::directory_iterator()), 1);
    rt({"delete", "--force", id_});
    config_ = cfg;
  }
}

TEST_F(Escape, Cve2024_45310_NestedMountPointsCreatedThroughSymlinks) {
  // The second mount's destination runs through a symlink that the first
  // mount's content cannot change, but the rootfs planted: mkdir -p must
  // stay inside.
  const fs::path host = hostDir("host-mkdir");
  fs::create_symlink(host, rootfs_ / "link");
  config_["mounts"].push_back(
      {{"destination", "/link/a/b/c"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  ProcResult r = runSh("echo ran");
  EXPECT_TRUE(fs::is_empty(host)) << "directories were created on the host";
}

// ---- CVE-2022-29162: inheritable capabilities ----

TEST_F(Escape, Cve2022_29162_NoInheritableOrAmbientUnlessListed) {
  config_["process"]["capabilities"].erase("ambient");
  ASSERT_FALSE(config_["process"]["capabilities"].contains("inheritable"));
  for (int uid : {0, 1000}) {
    SCOPED_TRACE(uid);
    config_["process"]["user"] = {{"uid", uid}, {"gid", uid}};
    ProcResult r = runSh("cat /proc/self/status");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(capField(r.out, "CapInh"), 0u);
    EXPECT_EQ(capField(r.out, "CapAmb"), 0u);
    rt({"delete", "--force", id_});
  }
}

TEST_F(Escape, UnknownCapabilityFailsCreateNamingTheField) {
  config_["process"]["capabilities"]["bounding"].push_back("CAP_BERTH_MAGIC");
  ProcResult r = create(id_);
  EXPECT_EQ(r.status, 1);
  if (isBerth()) {
    EXPECT_NE(r.err.find("process.capabilities.bounding[3]"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("CAP_BERTH_MAGIC"), std::string::npos) << r.err;
    EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  }
  expectNothingLeft(id_);
}

// ---- CVE-2024-21626: leaked fds and a cwd outside the root ----

TEST_F(Escape, Cve2024_21626_CwdCannotLeaveTheRoot) {
  writeFile(tmp_ / "host-marker", "host");
  config_["process"]["cwd"] = "/../../../../../..";
  const std::string hostMarker = (tmp_ / "host-marker").string();
  ProcResult r = runSh("pwd; ls -d /bin/busybox; cat ../../../.." + hostMarker + " 2>/dev/null || echo unreachable");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"/", "/bin/busybox", "unreachable"}));
}

TEST_F(Escape, Cve2024_21626_OnlyStdioReachesTheContainer) {
  // The runtime itself gets a host directory on fd 3 (as a leaky caller
  // would give it); without --preserve-fds the container must not see it,
  // nor any fd the runtime opened for itself (cgroup, state dir, channel).
  UniqueFd hostDirFd(::open(tmp_.c_str(), O_RDONLY | O_DIRECTORY));
  ASSERT_TRUE(hostDirFd);
  RunOptions opts;
  opts.passFds = {hostDirFd.get()};
  ProcResult r = runSh("ls /proc/1/fd; true", opts);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"0", "1", "2"}));
}

// ---- CVE-2025-31133: /dev/null swapped for a symlink when masking ----

TEST_F(Escape, Cve2025_31133_DevNullSymlinkToAHostFile) {
  const fs::path victim = hostDir("victim") / "file";
  writeFile(victim, "precious");
  // No /dev tmpfs: the rootfs's own /dev is used, with a planted null.
  auto& mounts = config_["mounts"];
  for (auto it = mounts.begin(); it != mounts.end();)
    it = ((*it)["destination"].get<std::string>().rfind("/dev", 0) == 0) ? mounts.erase(it) : it + 1;
  fs::create_directories(rootfs_ / "dev");
  replaceWithSymlink(rootfs_ / "dev" / "null", victim);
  config_["linux"]["maskedPaths"] = {"/proc/kcore", "/proc/timer_list"};
  ProcResult r = runSh("echo pwned > /proc/timer_list; wc -c < /proc/kcore");
  EXPECT_EQ(readFile(victim), "precious");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(victim)));
  if (r.status == 0) {
    EXPECT_EQ(trim(lines(r.out).back()), "0");
  }
}

// ---- CVE-2025-52881: procfs writes redirected by the rootfs ----

TEST_F(Escape, Cve2025_52881_SysctlGoesToTheRealProcfsUnderATmpfs) {
  // The rootfs's mounts put a tmpfs over /proc/sys; the sysctl must still be
  // written to the kernel (read back through a second procfs), not into the
  // tmpfs.
  fs::create_directories(rootfs_ / "proc2");
  auto& mounts = config_["mounts"];
  mounts.push_back({{"destination", "/proc/sys"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  mounts.push_back({{"destination", "/proc2"}, {"type", "proc"}, {"source", "proc"}});
  config_["linux"]["readonlyPaths"] = Json::array();
  config_["linux"]["sysctl"] = {{"kernel.domainname", "berth-52881"}};
  ProcResult r = runSh("cat /proc2/sys/kernel/domainname; ls /proc/sys | wc -l");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"berth-52881", "0"}));
  EXPECT_NE(trim(readFile("/proc/sys/kernel/domainname")), "berth-52881") << "the host's domainname was changed";
}

TEST_F(Escape, Cve2025_52881_OomScoreAdjGoesToTheRealProcfs) {
  config_["mounts"].push_back({{"destination", "/proc/self"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  config_["process"]["oomScoreAdj"] = 321;
  ProcResult r = runSh("cat /proc/1/oom_score_adj");
  // Mounting over the /proc/self symlink may be refused; either way the
  // value may only ever land in the kernel.
  if (r.status == 0) {
    EXPECT_EQ(trim(r.out), "321");
  }
}

}  // namespace
}  // namespace berth::it
