// Idmapped mounts: the mapping namespace helper and real idmapped trees.
// The tree tests need root and a filesystem with idmap support (/tmp here).
#include "fs/idmap.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fs/rootfs.hpp"
#include "fs_test_util.hpp"

namespace berth::fs {
namespace {

using testing::isRoot;
using testing::runInMountNs;
using testing::TempDir;
using testing::writeText;

std::vector<spec::IdMapping> one(uint32_t cid, uint32_t hid, uint32_t size) { return {{cid, hid, size}}; }

uid_t ownerAt(int dirfd, const char* name) {
  struct stat st {};
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return static_cast<uid_t>(-1);
  return st.st_uid;
}

// A source dir owned by 1000:1000 holding "root" (0:0) and "user" (1000:1000).
// Writing through a mount that maps 1000 to 0 needs the directory's owner
// mapped: root's DAC override does not reach an unmapped (overflow) owner.
void makeSource(const TempDir& tmp) {
  writeText(tmp / "src/root", "r");
  writeText(tmp / "src/user", "u");
  ASSERT_EQ(::chown((tmp / "src/user").c_str(), 1000, 1000), 0);
  ASSERT_EQ(::chown((tmp / "src").c_str(), 1000, 1000), 0);
}

TEST(IdMapText, OneLinePerRange) {
  EXPECT_EQ(idMapText({{0, 1000, 1}, {1, 100000, 65536}}), "0 1000 1\n1 100000 65536\n");
  EXPECT_EQ(idMapText({}), "");
}

TEST(MappingUserns, RefusesMissingMappings) {
  auto r = makeMappingUserns(one(0, 1000, 1), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), EINVAL);
  EXPECT_FALSE(makeMappingUserns({}, one(0, 1000, 1)).ok());
}

TEST(MappingUserns, GivesAUsernsFdAndReapsTheHelper) {
  if (!isRoot()) GTEST_SKIP() << "writing another namespace's maps needs root";
  std::string verdict = runInMountNs([]() -> std::string {
    auto ns = makeMappingUserns(one(0, 100000, 65536), one(0, 100000, 65536));
    SCENARIO_OK(ns);
    // It is a user namespace, and not ours.
    struct stat mine {}, got {};
    SCENARIO_CHECK(::stat("/proc/self/ns/user", &mine) == 0);
    SCENARIO_CHECK(::fstat(ns->get(), &got) == 0);
    SCENARIO_CHECK(mine.st_ino != got.st_ino);
    // The helper is gone: nothing left to wait for.
    errno = 0;
    SCENARIO_CHECK(::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD);
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST(IdmappedTree, MapsOwnersVerbatimAsRunc) {
  if (!isRoot()) GTEST_SKIP() << "idmapped mounts need root";
  TempDir tmp;
  makeSource(tmp);
  std::string verdict = runInMountNs([&]() -> std::string {
    UniqueFd src(::open((tmp / "src").c_str(), O_PATH | O_CLOEXEC));
    SCENARIO_CHECK(src);
    // containerID is the id on disk, hostID the id the mount shows.
    auto tree = openIdmappedTree({src.get(), tmp / "src", false, false, one(0, 100000, 65536), one(0, 100000, 65536)});
    SCENARIO_OK(tree);
    SCENARIO_CHECK(ownerAt(tree->get(), "root") == 100000);
    SCENARIO_CHECK(ownerAt(tree->get(), "user") == 101000);

    auto swapped = openIdmappedTree({src.get(), tmp / "src", false, false, one(1000, 0, 1), one(1000, 0, 1)});
    SCENARIO_OK(swapped);
    SCENARIO_CHECK(ownerAt(swapped->get(), "user") == 0);
    SCENARIO_CHECK(ownerAt(swapped->get(), "root") == 65534);  // unmapped: the overflow uid
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST(IdmappedTree, BadSourceFdFails) {
  auto tree = openIdmappedTree({-1, "/nonexistent", false, false, one(0, 0, 1), one(0, 0, 1)});
  ASSERT_FALSE(tree.ok());
}

struct RootfsFixture {
  TempDir tmp;
  spec::Spec spec;
  RootfsOptions opts;
  RootfsFixture() {
    std::filesystem::create_directories(tmp / "rootfs/mnt");
    opts.rootfs = tmp / "rootfs";
  }
  void addMount(const std::string& dest, const std::string& source, std::vector<std::string> options,
                std::vector<spec::IdMapping> uids, std::vector<spec::IdMapping> gids) {
    spec::Mount m;
    m.destination = dest;
    m.type = "none";
    m.source = source;
    m.options = std::move(options);
    m.uidMappings = std::move(uids);
    m.gidMappings = std::move(gids);
    spec.mounts.push_back(std::move(m));
  }
};

TEST(IdmapMountEntry, BindWithIdmapShowsMappedOwnerAndWritesThroughIt) {
  if (!isRoot()) GTEST_SKIP() << "mounts need root";
  RootfsFixture f;
  makeSource(f.tmp);
  f.addMount("/mnt/data", f.tmp / "src", {"bind", "idmap"}, one(1000, 0, 1), one(1000, 0, 1));
  std::string rootPath = f.opts.rootfs;
  std::string verdict = runInMountNs([&]() -> std::string {
    SCENARIO_OK(prepareRootfs(f.spec, f.opts));
    struct stat st {};
    SCENARIO_CHECK(::stat((rootPath + "/mnt/data/user").c_str(), &st) == 0 && st.st_uid == 0 && st.st_gid == 0);
    // Root creating through the mount stores the file as 1000.
    int fd = ::open((rootPath + "/mnt/data/new").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    SCENARIO_CHECK(fd >= 0);
    ::close(fd);
    return "";
  });
  EXPECT_EQ(verdict, "");
  struct stat st {};
  ASSERT_EQ(::stat((f.tmp / "src/new").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1000u);
}

TEST(IdmapMountEntry, WithoutMappingsFailsNamingTheMount) {
  if (!isRoot()) GTEST_SKIP() << "mounts need root";
  RootfsFixture f;
  makeSource(f.tmp);
  f.addMount("/mnt/data", f.tmp / "src", {"bind", "idmap"}, {}, {});
  std::string verdict = runInMountNs([&]() -> std::string {
    auto s = prepareRootfs(f.spec, f.opts);
    SCENARIO_CHECK(!s.ok());
    std::string msg = s.error().message();
    SCENARIO_CHECK(msg.find("/mnt/data") != std::string::npos);
    SCENARIO_CHECK(msg.find("uidMappings") != std::string::npos);
    return "";
  });
  EXPECT_EQ(verdict, "");
}

TEST(IdmapMountEntry, NonBindIsRefused) {
  if (!isRoot()) GTEST_SKIP() << "mounts need root";
  RootfsFixture f;
  spec::Mount m;
  m.destination = "/mnt/t";
  m.type = "tmpfs";
  m.source = "tmpfs";
  m.options = {"idmap"};
  m.uidMappings = one(0, 1000, 1);
  m.gidMappings = one(0, 1000, 1);
  f.spec.mounts.push_back(m);
  std::string verdict = runInMountNs([&]() -> std::string {
    auto s = prepareRootfs(f.spec, f.opts);
    SCENARIO_CHECK(!s.ok() && s.error().code() == ENOTSUP);
    return "";
  });
  EXPECT_EQ(verdict, "");
}

}  // namespace
}  // namespace berth::fs
