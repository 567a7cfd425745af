#include "security/identity.hpp"

#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common/syscalls.hpp"

namespace berth::security {
namespace {

// True when this user namespace forbids setgroups (an unprivileged writer of
// gid_map must deny it first).
bool setgroupsDenied() {
  auto content = sys::readFile("/proc/self/setgroups");
  return content && content->rfind("deny", 0) == 0;
}

Status setGroups(const std::vector<uint32_t>& gids) {
  std::vector<gid_t> list(gids.begin(), gids.end());
  if (::setgroups(list.size(), list.empty() ? nullptr : list.data()) == 0) return {};
  int err = errno;
  // Asked only on failure: /proc may not be mounted in the container at all,
  // and then the plain errno is the best we can say.
  if (err == EPERM && setgroupsDenied()) {
    if (list.empty()) return {};  // nothing to set; the host groups are unmapped anyway
    return Error("setgroups for additionalGids: denied in this user namespace (/proc/self/setgroups is \"deny\")",
                 err);
  }
  std::string msg = "setgroups(";
  for (size_t i = 0; i < list.size(); ++i) msg += (i ? "," : "") + std::to_string(list[i]);
  return Error(msg + ")", err);
}

}  // namespace

Status switchUser(const spec::User& user) {
  // Groups first: once the uid is not 0, CAP_SETGID is gone from the
  // effective set and the gids could no longer change.
  TRY(setGroups(user.additionalGids));
  if (::setresgid(user.gid, user.gid, user.gid) != 0)
    return Error::fromErrno("setresgid(" + std::to_string(user.gid) + ")");
  if (::setresuid(user.uid, user.uid, user.uid) != 0)
    return Error::fromErrno("setresuid(" + std::to_string(user.uid) + ")");
  ::umask(static_cast<mode_t>(user.umask.value_or(022) & 07777));
  return {};
}

Status setNoNewPrivileges() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Error::fromErrno("prctl(PR_SET_NO_NEW_PRIVS)");
  return {};
}

Status setOomScoreAdj(pid_t pid, int value) {
  const std::string path = "/proc/" + std::to_string(pid) + "/oom_score_adj";
  if (value < -1000 || value > 1000)
    return Error("oomScoreAdj " + std::to_string(value) + " is outside [-1000, 1000]", EINVAL);
  TRY_CTX(sys::writeFile(path, std::to_string(value)), "set oomScoreAdj " + std::to_string(value));
  return {};
}

}  // namespace berth::security
