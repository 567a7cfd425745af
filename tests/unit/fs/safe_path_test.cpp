#include "fs/safe_path.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fs/mount_util.hpp"
#include "fs_test_util.hpp"

namespace berth::fs {
namespace {

using testing::TempDir;
using testing::writeText;

ino_t inodeOf(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

ino_t inodeOf(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Every test runs twice: through openat2 and through our own walk.
class SafePathTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    setForceFallbackForTesting(GetParam());
    ASSERT_FALSE(tmp.path().empty());
    rootPath = tmp / "root";
    outsidePath = tmp / "outside";
    ASSERT_EQ(::mkdir(rootPath.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(outsidePath.c_str(), 0755), 0);
    writeText(rootPath + "/etc/marker", "inside");
    writeText(outsidePath + "/etc/marker", "outside");
    root.reset(::open(rootPath.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root.valid());
  }
  void TearDown() override { setForceFallbackForTesting(false); }

  void link(const std::string& target, const std::string& rel) {
    ASSERT_EQ(::symlink(target.c_str(), (rootPath + "/" + rel).c_str()), 0) << rel;
  }

  TempDir tmp;
  std::string rootPath, outsidePath;
  UniqueFd root;
};

TEST_P(SafePathTest, AbsoluteSymlinkIsClampedToRoot) {
  // Would name the host's outside/etc if followed by the kernel.
  link(outsidePath + "/etc", "abs");
  link("/etc", "etc-link");
  auto fd = openInRoot(root.get(), "abs/marker", O_RDONLY);
  EXPECT_FALSE(fd.ok()) << "resolved " << outsidePath << " inside the root, which does not exist there";
  auto fd2 = openInRoot(root.get(), "/etc-link/marker", O_RDONLY);
  ASSERT_TRUE(fd2.ok()) << fd2.error().message();
  EXPECT_EQ(inodeOf(fd2->get()), inodeOf(rootPath + "/etc/marker"));
}

TEST_P(SafePathTest, DotDotIsClampedAtRoot) {
  auto fd = openInRoot(root.get(), "../../../../etc/marker", O_RDONLY);
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  EXPECT_EQ(inodeOf(fd->get()), inodeOf(rootPath + "/etc/marker"));

  // The same through a relative symlink climbing out.
  link("../../../../../..", "up");
  auto fd2 = openInRoot(root.get(), "up/etc/marker", O_RDONLY);
  ASSERT_TRUE(fd2.ok()) << fd2.error().message();
  EXPECT_EQ(inodeOf(fd2->get()), inodeOf(rootPath + "/etc/marker"));
}

TEST_P(SafePathTest, SymlinkLoopsFailWithEloop) {
  link("b", "a");
  link("a", "b");
  link("self", "self");
  auto fd = openInRoot(root.get(), "a", O_RDONLY);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().code(), ELOOP);
  auto fd2 = openInRoot(root.get(), "self/x", O_RDONLY);
  ASSERT_FALSE(fd2.ok());
  EXPECT_EQ(fd2.error().code(), ELOOP);
}

TEST_P(SafePathTest, NoFollowAppliesToLastComponentOnly) {
  link("/etc", "etc-link");
  link("/etc/marker", "etc/marker-link");
  auto fd = openInRoot(root.get(), "etc-link/marker-link", O_PATH | O_NOFOLLOW);
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  EXPECT_EQ(inodeOf(fd->get()), inodeOf(rootPath + "/etc/marker-link"));
}

TEST_P(SafePathTest, MissingFileIsENOENT) {
  auto fd = openInRoot(root.get(), "/etc/nope", O_RDONLY);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().code(), ENOENT);
}

TEST_P(SafePathTest, MkdirAllThroughOutsideSymlinkStaysInside) {
  link(outsidePath, "escape");           // absolute, to a real host dir
  link("../../../../tmp", "escape-rel");  // relative, climbing
  auto fd = mkdirAllInRoot(root.get(), "/escape/x/y");
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  EXPECT_FALSE(std::filesystem::exists(outsidePath + "/x"));
  EXPECT_TRUE(std::filesystem::is_directory(rootPath + outsidePath + "/x/y"));
  EXPECT_EQ(inodeOf(fd->get()), inodeOf(rootPath + outsidePath + "/x/y"));

  auto fd2 = mkdirAllInRoot(root.get(), "escape-rel/made-by-test");
  ASSERT_TRUE(fd2.ok()) << fd2.error().message();
  EXPECT_TRUE(std::filesystem::is_directory(rootPath + "/tmp/made-by-test"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/made-by-test"));
}

TEST_P(SafePathTest, MkdirAllRefusesFileComponent) {
  auto fd = mkdirAllInRoot(root.get(), "/etc/marker/sub");
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().code(), ENOTDIR);
}

TEST_P(SafePathTest, CreateFileThroughDanglingOutsideSymlinkStaysInside) {
  link(outsidePath + "/planted", "victim");
  // The kernel's O_CREAT through a dangling link needs the target's directory;
  // inside the root it exists, outside too: only the inside one may get the file.
  std::filesystem::create_directories(rootPath + outsidePath);
  auto fd = createFileInRoot(root.get(), "/victim");
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  EXPECT_FALSE(std::filesystem::exists(outsidePath + "/planted"));
  EXPECT_TRUE(std::filesystem::is_regular_file(rootPath + outsidePath + "/planted"));
  // An existing file is returned as is.
  auto again = createFileInRoot(root.get(), "/etc/marker");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(inodeOf(again->get()), inodeOf(rootPath + "/etc/marker"));
  EXPECT_EQ(testing::readText(rootPath + "/etc/marker"), "inside");
}

INSTANTIATE_TEST_SUITE_P(Openat2AndFallback, SafePathTest, ::testing::Values(false, true),
                         [](const auto& param) { return param.param ? "fallback" : "openat2"; });

TEST(MountOptions, FlagsDataAndPropagation) {
  MountOptions o = parseMountOptions({"nosuid", "ro", "rw", "noexec", "mode=755", "size=1m", "rbind", "rslave",
                                      "private", "strictatime"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_BIND | MS_REC | MS_STRICTATIME));
  EXPECT_TRUE(o.cleared & MS_RDONLY);
  EXPECT_EQ(o.data, "mode=755,size=1m");
  ASSERT_EQ(o.propagation.size(), 2u);
  EXPECT_EQ(o.propagation[0], static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(o.propagation[1], static_cast<unsigned long>(MS_PRIVATE));
  EXPECT_TRUE(o.bind());
  EXPECT_TRUE(o.recursive());
}

TEST(MountOptions, RecursiveAttributes) {
  MountOptions o = parseMountOptions({"rro", "rnosuid", "rnoatime", "tmpcopyup"});
  EXPECT_EQ(o.recSet, uint64_t{MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME});
  EXPECT_EQ(o.recClear, uint64_t{MOUNT_ATTR__ATIME});
  EXPECT_EQ(o.data, "");
  EXPECT_TRUE(parseMountOptions({"idmap"}).idmap);
}

TEST(MountOptions, PropagationNames) {
  EXPECT_EQ(propagationFlags("runbindable"), static_cast<unsigned long>(MS_UNBINDABLE | MS_REC));
  EXPECT_EQ(propagationFlags("shared"), static_cast<unsigned long>(MS_SHARED));
  EXPECT_EQ(propagationFlags("bogus"), 0ul);
}

TEST(CleanPath, ClampsAndNormalizes) {
  EXPECT_EQ(cleanPath("../../etc/./passwd"), "/etc/passwd");
  EXPECT_EQ(cleanPath("dev//pts/"), "/dev/pts");
  EXPECT_EQ(cleanPath("/a/b/../../.."), "/");
  EXPECT_EQ(cleanPath(""), "/");
}

}  // namespace
}  // namespace berth::fs
