// A fixture for tests that run the runtime as an ordinary user: the user
// "berth-rootless" (made when missing, with /etc/subuid and /etc/subgid
// ranges), its own XDG_RUNTIME_DIR (so the default --root is
// $XDG_RUNTIME_DIR/berth) and a directory for `spec --rootless`.
#pragma once

#include <pwd.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace berth::it {

class UnprivilegedUserTest : public RuntimeTest {
 protected:
  static constexpr const char* kUser = "berth-rootless";

  void SetUp() override {
    RuntimeTest::SetUp();
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create the test user";
    if (!::getpwnam(kUser)) {
      ProcResult add = runProcess({"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", kUser});
      if (add.status != 0) GTEST_SKIP() << "useradd failed: " << add.err;
    }
    passwd* pw = ::getpwnam(kUser);
    ASSERT_NE(pw, nullptr);
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
    for (const char* file : {"/etc/subuid", "/etc/subgid"}) {
      if (readFile(file).find(std::string(kUser) + ":") == std::string::npos)
        writeFile(file, readFile(file) + kUser + ":400000:65536\n");
    }
    xdg_ = tmp_ / "xdg";
    specDir_ = tmp_ / "spec";
    for (const auto& d : {xdg_, specDir_}) {
      fs::create_directories(d);
      ASSERT_EQ(::chown(d.c_str(), uid_, gid_), 0);
    }
  }

  // Runs the runtime as the user, in `dir`. Every word is put in single
  // quotes for sh: none may contain one.
  ProcResult asUser(const fs::path& dir, const std::vector<std::string>& args) {
    std::string cmd = "cd '" + dir.string() + "' && exec '" + runtimeBinary() + "'";
    for (const auto& a : args) cmd += " '" + a + "'";
    return runProcess({"setpriv", "--reuid=" + std::to_string(uid_), "--regid=" + std::to_string(gid_),
                       "--clear-groups", "env", "XDG_RUNTIME_DIR=" + xdg_.string(), "HOME=/", "sh", "-c", cmd});
  }

  uid_t uid_ = 0;
  gid_t gid_ = 0;
  fs::path xdg_, specDir_;
};

}  // namespace berth::it
