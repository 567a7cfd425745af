#include "fs/idmap.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "common/scope_guard.hpp"
#include "common/syscalls.hpp"

namespace berth::fs {
namespace {

// The helper's pid as the mounted /proc numbers it. The clone3 return value
// is the pid in *our* pid namespace, which differs from /proc's when the init
// sits in a new pid namespace but still sees the host's /proc (mounts happen
// before pivot_root); the pidfd's fdinfo is written in /proc's terms.
Result<pid_t> procPidOf(int pidfd) {
  std::string info = TRY(sys::readFile("/proc/self/fdinfo/" + std::to_string(pidfd)));
  size_t at = info.find("\nPid:");
  if (at == std::string::npos) return Error("no Pid in fdinfo of pidfd", EINVAL);
  long pid = std::strtol(info.c_str() + at + 5, nullptr, 10);
  if (pid <= 0) return Error("helper not visible in /proc", ESRCH);
  return static_cast<pid_t>(pid);
}

[[noreturn]] void helperMain(int readFd, int writeFd) noexcept {
  // Only the parent's end keeps the pipe open: EOF means the parent is gone
  // or done, so the helper never outlives it.
  ::close(writeFd);
  char c;
  while (::read(readFd, &c, 1) < 0 && errno == EINTR) {
  }
  ::_exit(0);
}

}  // namespace

std::string idMapText(const std::vector<spec::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " + std::to_string(m.size) + "\n";
  return out;
}

Result<UniqueFd> makeMappingUserns(const std::vector<spec::IdMapping>& uidMaps,
                                   const std::vector<spec::IdMapping>& gidMaps) {
  if (uidMaps.empty() || gidMaps.empty()) return Error("idmap needs both uidMappings and gidMappings", EINVAL);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error::fromErrno("pipe for idmap helper");
  UniqueFd readEnd(p[0]), writeEnd(p[1]);

  int pidfdRaw = -1;
  sys::CloneArgs args;
  args.flags = CLONE_NEWUSER | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfdRaw);
  args.exit_signal = SIGCHLD;
  pid_t pid = sys::clone3(args);
  if (pid < 0) return Error::fromErrno("clone idmap helper into a new user namespace");
  if (pid == 0) helperMain(readEnd.get(), writeEnd.get());
  UniqueFd pidfd(pidfdRaw);
  ScopeGuard reap([&] {
    (void)sys::pidfdSendSignal(pidfd.get(), SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  });

  pid_t procPid = TRY_CTX(procPidOf(pidfd.get()), "idmap helper");
  std::string dir = "/proc/" + std::to_string(procPid) + "/";
  TRY_CTX(sys::writeFile(dir + "uid_map", idMapText(uidMaps)), "write idmap uid_map");
  TRY_CTX(sys::writeFile(dir + "gid_map", idMapText(gidMaps)), "write idmap gid_map");
  UniqueFd ns(::open((dir + "ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return Error::fromErrno("open idmap user namespace");
  return ns;
}

Result<UniqueFd> openIdmappedTree(const IdmapRequest& req) {
  UniqueFd userns = TRY(makeMappingUserns(req.uidMaps, req.gidMaps));
  unsigned cloneFlags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (req.cloneRecursive ? AT_RECURSIVE : 0);
  UniqueFd tree(sys::openTree(req.sourceFd, "", cloneFlags | AT_EMPTY_PATH));
  if (!tree) return Error::fromErrno("open_tree " + req.source);
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns.get());
  unsigned flags = AT_EMPTY_PATH | (req.idmapRecursive ? AT_RECURSIVE : 0);
  if (sys::mountSetattr(tree.get(), "", flags, &attr, sizeof attr) != 0) {
    const int err = errno;
    std::string why = err == EPERM    ? " (needs host root outside a user namespace)"
                      : err == EINVAL ? " (the filesystem may not support idmapped mounts)"
                                      : "";
    return Error("mount_setattr idmap " + req.source + why, err);
  }
  return tree;
}

Status attachTree(int treeFd, int targetFd, const std::string& shownTarget) {
  if (sys::moveMount(treeFd, "", targetFd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    return Error::fromErrno("move_mount onto " + shownTarget);
  return {};
}

}  // namespace berth::fs
