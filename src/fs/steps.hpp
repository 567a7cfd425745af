// Internal to fs/: the steps rootfs.cpp strings together. Each takes an fd of
// the root the paths are interpreted in (the rootfs before pivot_root, "/"
// after) and never resolves a path inside it by string.
#pragma once

#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "fs/rootfs.hpp"
#include "spec/model.hpp"

namespace berth::fs {

// One entry of config.json "mounts". `cgroupNs`: the container gets its own
// cgroup namespace, so fresh cgroup mounts show its own cgroup as the root.
// From `opts`, a cgroup mount takes cgroupHierarchies and
// mayShareHostCgroupTmpfs.
Status mountEntry(int rootFd, const spec::Mount& m, bool cgroupNs, const RootfsOptions& opts);

// linux.devices plus the default devices (null zero full random urandom tty),
// then /dev/fd, /dev/std{in,out,err} and /dev/ptmx.
Status createDevices(int rootFd, const spec::Spec& spec, const RootfsOptions& opts);
Status createDevSymlinks(int rootFd, bool devPtsMounted);

// maskedPaths and readonlyPaths entries; missing paths are skipped.
// maskPath: `sources`, when given, keeps what masks are made of between calls:
// the checked /dev/null, and the first masked directory, whose read-only
// tmpfs later directories get a clone of (one superblock per container).
struct MaskSources {
  UniqueFd devNull;
  std::string firstDir;   // the first masked directory, once it has its tmpfs
  UniqueFd emptyDir;      // that tmpfs's root, opened when a second directory needs it
  bool noClones = false;  // a tmpfs each: no open_tree (before Linux 5.2)
};
Status maskPath(int rootFd, const std::string& path, MaskSources* sources = nullptr);
Status readonlyPath(int rootFd, const std::string& path);

}  // namespace berth::fs
