#include "common/mkdir_batch.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace berth::sys {
namespace {

class MkdirBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-mkdir-batch-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf " + dir_).c_str()); }
  bool isDir(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  std::string dir_;
};

TEST_F(MkdirBatchTest, MakesEveryDirectoryAndReportsEachResultInOrder) {
  ASSERT_EQ(::mkdir((dir_ + "/there").c_str(), 0755), 0);
  auto batch = MkdirBatch::start({dir_ + "/a", dir_ + "/there", dir_ + "/missing/child", dir_ + "/b"}, 0750);
  const auto& r = batch.wait();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], 0);
  EXPECT_EQ(r[1], -EEXIST);
  EXPECT_EQ(r[2], -ENOENT);  // no parents are made: that is the caller's fallback
  EXPECT_EQ(r[3], 0);
  EXPECT_TRUE(isDir(dir_ + "/a"));
  EXPECT_TRUE(isDir(dir_ + "/b"));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777 & ~0750, 0u);  // the mode, less the umask
  // A second wait gives the same answers and does no work.
  EXPECT_EQ(batch.wait(), r);
}

TEST_F(MkdirBatchTest, UsesIoUringOnThisKernel) {
  // Kernel 6.x with io_uring enabled (CI's machines): the point of the batch
  // is that the kernel does the work while the caller clones. If this fails,
  // the batch silently degraded to synchronous mkdirs.
  int disabled = 0;
  if (FILE* f = std::fopen("/proc/sys/kernel/io_uring_disabled", "r")) {
    if (std::fscanf(f, "%d", &disabled) != 1) disabled = 0;
    std::fclose(f);
  }
  if (disabled != 0) GTEST_SKIP() << "io_uring is disabled on this host (kernel.io_uring_disabled=" << disabled << ")";
  auto batch = MkdirBatch::start({dir_ + "/x"}, 0755);
  EXPECT_TRUE(batch.usedIoUring());
  EXPECT_EQ(batch.wait()[0], 0);
  EXPECT_TRUE(isDir(dir_ + "/x"));
}

TEST_F(MkdirBatchTest, DestructorReapsWhatIsInFlight) {
  {
    auto batch = MkdirBatch::start({dir_ + "/never-waited"}, 0755);
  }
  EXPECT_TRUE(isDir(dir_ + "/never-waited"));
}

TEST_F(MkdirBatchTest, EmptyAndUnstartedBatchesAreHarmless) {
  MkdirBatch none;
  EXPECT_FALSE(none.started());
  EXPECT_TRUE(none.wait().empty());
  auto empty = MkdirBatch::start({}, 0755);
  EXPECT_TRUE(empty.started());
  EXPECT_TRUE(empty.wait().empty());
}

}  // namespace
}  // namespace berth::sys
