#include "security/identity.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child_helpers.hpp"

namespace berth::security {
namespace {

using ::testing::HasSubstr;
using testing::inChild;

std::string ids() {
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  getresuid(&ru, &eu, &su);
  getresgid(&rg, &eg, &sg);
  gid_t groups[64];
  int n = getgroups(64, groups);
  std::string out = "uid=" + std::to_string(ru) + "," + std::to_string(eu) + "," + std::to_string(su) +
                    " gid=" + std::to_string(rg) + "," + std::to_string(eg) + "," + std::to_string(sg) + " groups=";
  for (int i = 0; i < n; ++i) out += (i ? "," : "") + std::to_string(groups[i]);
  mode_t mask = ::umask(0);
  char buf[16];
  std::snprintf(buf, sizeof buf, " umask=%04o", mask);
  return out + buf;
}

class SwitchUser : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  }
};

TEST_F(SwitchUser, SetsAllThreeIdsGroupsAndUmask) {
  spec::User user;
  user.uid = 1000;
  user.gid = 1000;
  user.additionalGids = {10, 20, 1000};
  user.umask = 027;
  auto r = inChild([&] {
    auto st = switchUser(user);
    return st ? ids() : st.error().message();
  });
  EXPECT_EQ(r.output, "uid=1000,1000,1000 gid=1000,1000,1000 groups=10,20,1000 umask=0027");
}

TEST_F(SwitchUser, NoAdditionalGidsClearsTheRuntimesGroups) {
  spec::User user;  // root, no groups, no umask
  auto r = inChild([&] {
    const gid_t inherited[] = {5, 6};
    if (::setgroups(2, inherited) != 0) return std::string("setup failed");
    ::umask(077);
    auto st = switchUser(user);
    return st ? ids() : st.error().message();
  });
  EXPECT_EQ(r.output, "uid=0,0,0 gid=0,0,0 groups= umask=0022");
}

TEST_F(SwitchUser, FailureNamesTheCall) {
  spec::User user;
  user.uid = 1000;
  user.gid = 1000;
  auto r = inChild([&] {
    // Already unprivileged: changing to another uid is refused.
    if (::setresuid(2000, 2000, 2000) != 0) return std::string("setup failed");
    auto st = switchUser(user);
    return st ? std::string("switched") : st.error().message();
  });
  EXPECT_EQ(r.output, "setgroups(): Operation not permitted");
}

TEST_F(SwitchUser, DeniedSetgroupsInUserNamespace) {
  auto r = inChild([&] {
    if (::unshare(CLONE_NEWUSER) != 0) return std::string("SKIP unshare(CLONE_NEWUSER) failed");
    if (!sys::writeFile("/proc/self/setgroups", "deny") || !sys::writeFile("/proc/self/uid_map", "0 0 1\n") ||
        !sys::writeFile("/proc/self/gid_map", "0 0 1\n"))
      return std::string("SKIP cannot write the id maps");
    spec::User plain;
    std::string out;
    auto st = switchUser(plain);
    out += st ? "plain ok" : "plain: " + st.error().message();
    spec::User withGroups;
    withGroups.additionalGids = {0};
    st = switchUser(withGroups);
    out += st ? "; groups ok" : "; groups: " + st.error().message();
    return out;
  });
  if (r.output.rfind("SKIP", 0) == 0) GTEST_SKIP() << r.output;
  EXPECT_EQ(r.output,
            "plain ok; groups: setgroups for additionalGids: denied in this user namespace (/proc/self/setgroups is "
            "\"deny\"): Operation not permitted");
}

TEST(NoNewPrivileges, IsSetAfterwards) {
  auto r = inChild([] {
    int before = ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    auto st = setNoNewPrivileges();
    if (!st) return st.error().message();
    return std::to_string(before) + "->" + std::to_string(::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  });
  EXPECT_EQ(r.output, "0->1");
}

// A child that waits until its pipe is closed: a target for setOomScoreAdj.
class OomScoreAdj : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::pipe2(fds_, O_CLOEXEC), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      char c;
      ::close(fds_[1]);
      (void)!::read(fds_[0], &c, 1);
      ::_exit(0);
    }
    ::close(fds_[0]);
  }
  void TearDown() override {
    ::close(fds_[1]);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  std::string current() const {
    auto s = sys::readFile("/proc/" + std::to_string(pid_) + "/oom_score_adj");
    return s ? *s : "unreadable";
  }
  int fds_[2] = {-1, -1};
  pid_t pid_ = -1;
};

TEST_F(OomScoreAdj, WritesTheChildsValue) {
  ASSERT_TRUE(setOomScoreAdj(pid_, 500));
  EXPECT_EQ(current(), "500\n");
  ASSERT_TRUE(setOomScoreAdj(pid_, 1000));
  EXPECT_EQ(current(), "1000\n");
}

TEST_F(OomScoreAdj, OutOfRangeIsRejectedWithoutWriting) {
  const std::string before = current();
  auto st = setOomScoreAdj(pid_, 1001);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "oomScoreAdj 1001 is outside [-1000, 1000]: Invalid argument");
  EXPECT_EQ(current(), before);
}

TEST(OomScoreAdjErrors, MissingProcessNamesThePath) {
  // pid_max is at most 2^22: this pid cannot exist.
  auto st = setOomScoreAdj(1 << 23, 100);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "set oomScoreAdj 100: open /proc/8388608/oom_score_adj: No such file or directory");
}

}  // namespace
}  // namespace berth::security
