// Device nodes and the /dev symlinks. Nodes are made relative to a parent
// directory fd resolved inside the root, and anything the rootfs left at the
// node's name is looked at without following it: a planted /dev/null ->
// /etc/passwd is replaced by the node, never written through.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>

#include "common/scope_guard.hpp"
#include "common/syscalls.hpp"
#include "fs/mount_util.hpp"
#include "fs/safe_path.hpp"
#include "fs/steps.hpp"

namespace berth::fs {
namespace {

struct DefaultDevice {
  const char* path;
  unsigned major, minor;
};

// runtime-spec config-linux.md "Default Devices" (ptmx and console are
// handled elsewhere: ptmx is a symlink, console needs the pty).
constexpr DefaultDevice kDefaultDevices[] = {
    {"/dev/null", 1, 3},    {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8},  {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

Result<mode_t> typeBits(const std::string& type) {
  if (type == "c" || type == "u") return mode_t{S_IFCHR};
  if (type == "b") return mode_t{S_IFBLK};
  if (type == "p") return mode_t{S_IFIFO};
  return Error("device type \"" + type + "\" is not one of c, u, b, p", EINVAL);
}

bool matches(const struct stat& st, mode_t type, dev_t rdev) {
  if ((st.st_mode & S_IFMT) != type) return false;
  return type == S_IFIFO || st.st_rdev == rdev;
}

// The host's node bound onto an empty file: what an unprivileged user
// namespace allows instead of mknod.
Status bindHostNode(int parentFd, const std::string& name, const std::string& path) {
  int fd = ::openat(parentFd, name.c_str(), O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Error::fromErrno("create bind target " + path);
  ::close(fd);
  UniqueFd target(::openat(parentFd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!target) return Error::fromErrno("open bind target " + path);
  UniqueFd host(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!host) return Error::fromErrno("open host device " + path);
  return mountAt(sys::fdPath(host.get()), sys::fdPath(target.get()), path, nullptr, MS_BIND, "");
}

// Device parents by in-container path: the default devices all live in
// /dev, which is resolved (safely, a few syscalls) once.
struct ParentDir {
  UniqueFd fd;
  bool setgid = false;  // new nodes take the directory's group, not ours
};
using ParentCache = std::map<std::string, ParentDir>;

struct DeviceContext {
  bool rootless = false;
  uid_t euid = 0;  // the owner mknod gives a node
  gid_t egid = 0;
  ParentCache parents;
};

Result<const ParentDir*> parentDir(int rootFd, const std::string& dir, ParentCache& cache) {
  auto it = cache.find(dir);
  if (it == cache.end()) {
    ParentDir p{TRY(mkdirAllInRoot(rootFd, dir))};
    struct stat st {};
    if (::fstat(p.fd.get(), &st) != 0) return Error::fromErrno("stat " + dir);
    p.setgid = (st.st_mode & S_ISGID) != 0;
    it = cache.emplace(dir, std::move(p)).first;
  }
  return &it->second;
}

Status createDevice(int rootFd, const spec::Device& dev, bool isDefault, DeviceContext& ctx) {
  const std::string path = cleanPath(dev.path);
  if (path == "/") return Error("device path " + dev.path, EINVAL);
  const mode_t type = TRY(typeBits(dev.type));
  const dev_t rdev = type == S_IFIFO ? 0 : makedev(dev.major, dev.minor);
  const mode_t perm = dev.fileMode.value_or(0666) & 07777;
  size_t slash = path.rfind('/');
  const std::string name = path.substr(slash + 1);
  const ParentDir& dir = *TRY(parentDir(rootFd, slash == 0 ? "/" : path.substr(0, slash), ctx.parents));
  const int parent = dir.fd.get();
  const uid_t uid = dev.uid.value_or(0);
  const gid_t gid = dev.gid.value_or(0);

  struct stat st {};
  bool exists = ::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (exists && !matches(st, type, rdev)) {
    // The spec makes a mismatch at a configured path an error; a default
    // device simply takes the place of whatever the image had there.
    if (!isDefault || S_ISDIR(st.st_mode))
      return Error("device " + path + ": a different file already exists there", EEXIST);
    if (::unlinkat(parent, name.c_str(), 0) != 0) return Error::fromErrno("remove " + path);
    exists = false;
  }
  if (!exists) {
    if (ctx.rootless) return bindHostNode(parent, name, path);
    if (::mknodat(parent, name.c_str(), type | perm, rdev) != 0) {
      if (errno == EPERM) return bindHostNode(parent, name, path);  // user namespace without the flag
      return Error::fromErrno("mknod " + path);
    }
    // A node we just made has the exact type and permission bits (the umask
    // is cleared) and our own owner unless the directory is setgid: nothing
    // to check or fix, and nothing more is done through the name.
    if ((perm & 07000) == 0 && !dir.setgid && uid == ctx.euid && gid == ctx.egid) return {};
  }
  UniqueFd node(::openat(parent, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!node) return Error::fromErrno("open " + path);
  if (::fstat(node.get(), &st) != 0) return Error::fromErrno("stat " + path);
  if (!matches(st, type, rdev)) return Error("device " + path + ": replaced while being created", EEXIST);
  // A node from the image, or one whose parent directory is setgid, may
  // differ from what the config asks; one we just made usually does not
  // (createDevices clears the umask), and then both syscalls are saved.
  // chmod goes through our own fd (an O_PATH fd of a node cannot be
  // fchmod'ed, its /proc/self/fd link can).
  if ((st.st_mode & 07777) != perm && ::chmod(sys::fdPath(node.get()).c_str(), perm) != 0)
    return Error::fromErrno("chmod " + path);
  if ((st.st_uid != uid || st.st_gid != gid) && ::fchownat(node.get(), "", uid, gid, AT_EMPTY_PATH) != 0)
    return Error::fromErrno("chown " + path);
  return {};
}

// Makes `name` in dirFd a symlink to `target`, replacing a non-directory.
Status replaceWithSymlink(int dirFd, const std::string& name, const std::string& target) {
  // Usually nothing is there (a fresh /dev tmpfs): one syscall.
  if (::symlinkat(target.c_str(), dirFd, name.c_str()) == 0) return {};
  if (errno != EEXIST) return Error::fromErrno("symlink /dev/" + name + " -> " + target);
  struct stat st {};
  if (::fstatat(dirFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) {
      char buf[256];
      ssize_t n = ::readlinkat(dirFd, name.c_str(), buf, sizeof buf);
      if (n >= 0 && std::string(buf, static_cast<size_t>(n)) == target) return {};
    }
    if (S_ISDIR(st.st_mode)) return Error("symlink /dev/" + name + ": a directory is in the way", EEXIST);
    if (::unlinkat(dirFd, name.c_str(), 0) != 0) return Error::fromErrno("remove /dev/" + name);
  }
  if (::symlinkat(target.c_str(), dirFd, name.c_str()) != 0)
    return Error::fromErrno("symlink /dev/" + name + " -> " + target);
  return {};
}

}  // namespace

Status createDevices(int rootFd, const spec::Spec& spec, const RootfsOptions& opts) {
  // mknod gets the exact mode, so no chmod is needed after it.
  const mode_t oldUmask = ::umask(0);
  ScopeGuard restoreUmask([&] { ::umask(oldUmask); });
  DeviceContext ctx;
  ctx.rootless = opts.rootless;
  ctx.euid = ::geteuid();
  ctx.egid = ::getegid();
  std::set<std::string> configured;
  if (spec.linux) {
    for (const spec::Device& d : spec.linux->devices) {
      TRY_CTX(createDevice(rootFd, d, false, ctx), "devices");
      configured.insert(cleanPath(d.path));
    }
  }
  for (const DefaultDevice& d : kDefaultDevices) {
    if (configured.count(d.path)) continue;
    spec::Device dev;
    dev.type = "c";
    dev.path = d.path;
    dev.major = d.major;
    dev.minor = d.minor;
    dev.fileMode = 0666;
    TRY_CTX(createDevice(rootFd, dev, true, ctx), "default devices");
  }
  return {};
}

Status createDevSymlinks(int rootFd, bool devPtsMounted) {
  UniqueFd dev = TRY_CTX(mkdirAllInRoot(rootFd, "/dev"), "dev symlinks");
  // runtime-linux.md: the links are made only if their source exists, which
  // needs /proc mounted by then.
  if (auto fdDir = openInRoot(rootFd, "/proc/self/fd", O_PATH | O_DIRECTORY); fdDir.ok()) {
    TRY_CTX(replaceWithSymlink(dev.get(), "fd", "/proc/self/fd"), "dev symlinks");
    const char* names[] = {"stdin", "stdout", "stderr"};
    for (int i = 0; i < 3; ++i) {
      struct stat st {};
      if (::fstatat(fdDir->get(), std::to_string(i).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      TRY_CTX(replaceWithSymlink(dev.get(), names[i], "/proc/self/fd/" + std::to_string(i)), "dev symlinks");
    }
  }
  if (devPtsMounted) TRY_CTX(replaceWithSymlink(dev.get(), "ptmx", "pts/ptmx"), "dev symlinks");
  return {};
}

}  // namespace berth::fs
