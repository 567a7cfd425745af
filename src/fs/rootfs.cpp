#include "fs/rootfs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "common/syscalls.hpp"
#include "fs/idmap.hpp"
#include "fs/mount_util.hpp"
#include "fs/safe_path.hpp"
#include "fs/steps.hpp"

namespace berth::fs {
namespace {

Result<unsigned long> rootPropagation(const spec::Spec& spec) {
  if (!spec.linux || !spec.linux->rootfsPropagation) return static_cast<unsigned long>(MS_SLAVE | MS_REC);
  unsigned long flags = propagationFlags(*spec.linux->rootfsPropagation);
  if (flags == 0) return Error("linux.rootfsPropagation \"" + *spec.linux->rootfsPropagation + "\" is not valid", EINVAL);
  return flags;
}

// The mount point of the mount holding `path` (longest mountinfo prefix).
std::string mountPointOf(const std::string& path) {
  std::string best = "/";
  auto text = sys::readFile("/proc/self/mountinfo");
  if (!text) return best;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, mnt;
    f >> id >> parent >> dev >> root >> mnt;
    bool under = mnt == "/" || path == mnt || path.compare(0, mnt.size() + 1, mnt + "/") == 0;
    if (under && mnt.size() > best.size()) best = mnt;
  }
  return best;
}

bool hasMountAt(const spec::Spec& spec, const std::string& dest) {
  for (const auto& m : spec.mounts)
    if (cleanPath(m.destination) == dest) return true;
  return false;
}

bool wantsCgroupNs(const spec::Spec& spec) {
  if (!spec.linux) return false;
  for (const auto& ns : spec.linux->namespaces)
    if (ns.type == "cgroup") return true;
  return false;
}

// The root of the read-only tmpfs maskPath put on `dir`, for a later masked
// directory to get a clone of (nothing in the container runs yet that could
// have swapped it); none if something else is there.
UniqueFd maskRoot(int rootFd, const std::string& dir) {
  auto top = openInRoot(rootFd, dir, O_PATH | O_DIRECTORY);
  struct statfs sfs {};
  if (!top || ::fstatfs(top->get(), &sfs) != 0 || sfs.f_type != TMPFS_MAGIC) return {};
  return std::move(*top);
}

}  // namespace

Status maskPath(int rootFd, const std::string& path, MaskSources* sources) {
  auto target = openInRoot(rootFd, path, O_PATH);
  if (!target) {
    if (target.error().code() == ENOENT) return {};
    return std::move(target).error().context("mask " + path);
  }
  struct stat st {};
  if (::fstat(target->get(), &st) != 0) return Error::fromErrno("mask " + path + ": stat");
  if (S_ISDIR(st.st_mode)) {
    if (sources && !sources->firstDir.empty() && !sources->noClones) {
      if (!sources->emptyDir) sources->emptyDir = maskRoot(rootFd, sources->firstDir);
      if (sources->emptyDir) {
        UniqueFd tree(sys::openTree(sources->emptyDir.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
        if (tree) return attachTree(tree.get(), target->get(), path);
        if (errno != ENOSYS) return Error::fromErrno("mask " + path + ": open_tree");
      }
      sources->noClones = true;  // before Linux 5.2 (or not our tmpfs there): a tmpfs each
    }
    // Read-only, so the size is moot: nothing can be written into the mask.
    TRY(mountAt("tmpfs", sys::fdPath(target->get()), path, "tmpfs", MS_RDONLY, "size=0k"));
    if (sources && sources->firstDir.empty()) sources->firstDir = path;
    return {};
  }
  // The container's /dev/null, checked: the rootfs could have put anything
  // there. Opened once for all masks when the caller keeps it in sources.
  UniqueFd local;
  UniqueFd& null = sources ? sources->devNull : local;
  if (!null) {
    null = TRY_CTX(openInRoot(rootFd, "/dev/null", O_PATH), "mask " + path);
    if (::fstat(null.get(), &st) != 0) return Error::fromErrno("mask " + path + ": stat /dev/null");
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
      null.reset();
      return Error("mask " + path + ": /dev/null in the container is not the null device", EPERM);
    }
  }
  return mountAt(sys::fdPath(null.get()), sys::fdPath(target->get()), path, nullptr, MS_BIND, "");
}

Status readonlyPath(int rootFd, const std::string& path) {
  auto mp = openMountPoint(rootFd, path, TargetKind::MustExist);
  if (!mp) {
    if (mp.error().code() == ENOENT) return {};
    return std::move(mp).error().context("readonly path " + path);
  }
  // A read-only copy of the tree, attached over the original: three
  // syscalls, and mount_setattr leaves the other (possibly locked) flags
  // alone, so they need not be read and repeated as a remount must.
  UniqueFd tree(sys::openTree(mp->fd.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
  if (tree) {
    Status ro = setMountAttrs(tree.get(), mp->path, MOUNT_ATTR_RDONLY, 0, false);
    if (ro) {
      if (sys::moveMount(tree.get(), "", mp->fd.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        return Error::fromErrno("readonly path " + path + ": move_mount");
      return {};
    }
    if (ro.error().code() != ENOSYS) return std::move(ro).error().context("readonly path " + path);
  } else if (errno != ENOSYS) {
    return Error::fromErrno("readonly path " + path + ": open_tree");
  }
  // Before Linux 5.12: bind onto itself, then remount read-only.
  TRY(mountAt(sys::fdPath(mp->fd.get()), sys::fdPath(mp->fd.get()), mp->path, nullptr, MS_BIND | MS_REC, ""));
  UniqueFd top = TRY_CTX(openMountedTop(*mp), "readonly path " + path);
  unsigned long have = TRY_CTX(mountFlagsOf(top.get()), "readonly path " + path);
  return mountAt("", sys::fdPath(top.get()), mp->path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | have, "");
}

Status prepareRootfs(const spec::Spec& spec, const RootfsOptions& opts) {
  if (opts.rootfs.empty() || opts.rootfs[0] != '/') return Error("rootfs path must be absolute: " + opts.rootfs, EINVAL);
  const unsigned long propagation = TRY(rootPropagation(spec));
  // Slave by default: the host's mounts still reach us, ours never reach it.
  TRY(mountAt("", "/", "/", nullptr, propagation, ""));
  if (propagation & MS_SHARED) {
    // pivot_root refuses a new root whose parent mount is shared.
    std::string parent = mountPointOf(opts.rootfs);
    TRY(mountAt("", parent, parent, nullptr, MS_PRIVATE, ""));
  }
  // pivot_root needs the new root to be a mount point of its own.
  TRY(mountAt(opts.rootfs, opts.rootfs, opts.rootfs, nullptr, MS_BIND | MS_REC, ""));
  UniqueFd root(::open(opts.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::fromErrno("open rootfs " + opts.rootfs);

  const bool cgroupNs = wantsCgroupNs(spec);
  bool joined = !opts.joinCgroup;
  for (const spec::Mount& m : spec.mounts) {
    if (!joined && m.type && *m.type == "cgroup") {
      TRY(opts.joinCgroup());
      joined = true;
    }
    TRY(mountEntry(root.get(), m, cgroupNs, opts));
  }
  TRY(createDevices(root.get(), spec, opts));
  TRY(createDevSymlinks(root.get(), hasMountAt(spec, "/dev/pts")));
  if (!joined) TRY(opts.joinCgroup());
  return {};
}

Status enterRootfs(const RootfsOptions& opts) {
  UniqueFd newRoot(::open(opts.rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!newRoot) return Error::fromErrno("open rootfs " + opts.rootfs);
  if (::fchdir(newRoot.get()) != 0) return Error::fromErrno("chdir to rootfs " + opts.rootfs);
  if (opts.noPivot) {
    TRY(mountAt(".", "/", "/", nullptr, MS_MOVE, ""));
    if (::chroot(".") != 0) return Error::fromErrno("chroot " + opts.rootfs);
  } else {
    UniqueFd oldRoot(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!oldRoot) return Error::fromErrno("open /");
    // pivot_root(".", "."): the old root ends up stacked on top of the new
    // one at "/", so no put_old directory has to exist in the rootfs.
    if (sys::pivotRoot(".", ".") != 0) return Error::fromErrno("pivot_root " + opts.rootfs);
    if (::fchdir(oldRoot.get()) != 0) return Error::fromErrno("chdir to old root");
    // Slave first, or the detach below would propagate to the host's mounts.
    TRY_CTX(mountAt("", ".", "old root", nullptr, MS_SLAVE | MS_REC, ""), "pivot_root");
    if (::umount2(".", MNT_DETACH) != 0) return Error::fromErrno("unmount old root");
  }
  if (::chdir("/") != 0) return Error::fromErrno("chdir /");
  return {};
}

Status finishRootfs(const spec::Spec& spec) {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::fromErrno("open /");
  if (spec.linux) {
    MaskSources masks;
    for (const auto& p : spec.linux->maskedPaths) TRY_CTX(maskPath(root.get(), p, &masks), "maskedPaths");
    for (const auto& p : spec.linux->readonlyPaths) TRY_CTX(readonlyPath(root.get(), p), "readonlyPaths");
  }
  if (spec.root && spec.root->readonly) {
    // Repeat the flags "/" has: in a user namespace they are locked and a
    // remount that drops them fails with EPERM.
    unsigned long have = TRY_CTX(mountFlagsOf(root.get()), "readonly rootfs");
    TRY_CTX(mountAt("", "/", "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | have, ""), "readonly rootfs");
  }
  if (spec.linux && spec.linux->rootfsPropagation) {
    unsigned long propagation = TRY(rootPropagation(spec));
    TRY_CTX(mountAt("", "/", "/", nullptr, propagation, ""), "rootfsPropagation");
  }
  return {};
}

}  // namespace berth::fs
