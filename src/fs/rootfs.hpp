// Building the container's filesystem view. Called by the init child, in the
// container's new mount namespace, as root of the container's user namespace
// (if any). Everything here treats the rootfs as hostile: paths inside it are
// resolved with fs::openInRoot (safe_path.hpp), never by string.
//
// Order, as process/init calls it:
//   prepareRootfs  -> (createContainer hooks) -> enterRootfs -> finishRootfs
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/cgroup_hierarchy.hpp"
#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::fs {

// The container's cgroup mount shows each hierarchy as a directory `name`:
// a bind of `hostDir` or, in a cgroup namespace, a fresh mount of
// `controllers`.
using berth::CgroupHierarchy;

struct RootfsOptions {
  std::string rootfs;    // absolute host path of root.path (bundle-relative already resolved)
  bool noPivot = false;  // --no-pivot: MS_MOVE + chroot instead of pivot_root
  bool rootless = false; // unprivileged user namespace: bind /dev nodes instead of mknod
  // When set, called exactly once: right before the first mount of type
  // "cgroup" (such a mount shows the caller's own cgroup, and cgroup
  // namespace, so the init must have joined its cgroup by then), or, without
  // one, once everything is mounted. Everything before it overlaps with the
  // parent's cgroup work.
  std::function<Status()> joinCgroup;
  // The hierarchies a cgroup mount on a v1 or hybrid host shows, from the
  // cgroup manager, which made them. Without it the init works them out from
  // /proc/self/mountinfo, which costs ~0.3 ms for the kernel to generate.
  std::vector<CgroupHierarchy> cgroupHierarchies;
  // Nothing in the container can ever remount a mount writable (no
  // CAP_SYS_ADMIN in its bounding set): a read-only v1 cgroup mount may then
  // bind the host's /sys/fs/cgroup tmpfs, whose directories are already the
  // hierarchies' mount points, instead of making a tmpfs and a directory per
  // hierarchy (mounts.cpp, bindHostCgroupTmpfs).
  bool mayShareHostCgroupTmpfs = false;
};

// Makes mount propagation private/slave as linux.rootfsPropagation says
// (default: rslave, as runc), bind-mounts the rootfs onto itself, performs
// every entry of `mounts` in order (creating destinations inside the rootfs),
// creates linux.devices and the default devices, /dev/fd, /dev/std{in,out,err},
// /dev/ptmx -> pts/ptmx. Leaves the cwd unchanged.
Status prepareRootfs(const spec::Spec& spec, const RootfsOptions& opts);

// pivot_root into the rootfs (or chroot with noPivot), detaching the old root.
// Afterwards "/" is the container's root and cwd is "/".
Status enterRootfs(const RootfsOptions& opts);

// After enterRootfs: maskedPaths, readonlyPaths, root.readonly, and the
// propagation of "/" as rootfsPropagation says.
Status finishRootfs(const spec::Spec& spec);

}  // namespace berth::fs
