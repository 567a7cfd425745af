// config.json "mounts": one entry at a time, each onto an fd-resolved target.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <sstream>
#include <vector>

#include "common/syscalls.hpp"
#include "fs/idmap.hpp"
#include "fs/mount_util.hpp"
#include "fs/steps.hpp"

namespace berth::fs {
namespace {

constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
// What MS_REMOUNT|MS_BIND can change: the per-mount flags.
constexpr unsigned long kPerMountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME | kAtimeFlags;

// Propagation options and the recursive (mount_setattr) attributes, both of
// which act on the new mount, so they come after it.
Status applyAfterMount(const MountPoint& mp, const MountOptions& opts) {
  if (opts.propagation.empty() && opts.recSet == 0 && opts.recClear == 0) return {};
  UniqueFd top = TRY(openMountedTop(mp));
  for (unsigned long p : opts.propagation)
    TRY(mountAt("", sys::fdPath(top.get()), mp.path, nullptr, p, ""));
  if (opts.recSet != 0 || opts.recClear != 0) TRY(setMountAttrs(top.get(), mp.path, opts.recSet, opts.recClear, true));
  return {};
}

// The second pass a bind mount needs for ro/nosuid/...: the bind itself
// ignores them. Flags the new mount already has (inherited, and locked in a
// user namespace) are repeated unless an option turned them off.
// remountBind on the root of the mount `top` (opened after the mount).
Status remountTop(int top, const std::string& path, const MountOptions& opts) {
  unsigned long wanted = opts.flags & kPerMountFlags;
  unsigned long have = TRY_CTX(mountFlagsOf(top), "bind " + path);
  unsigned long keep = have & ~opts.cleared;
  if ((opts.flags | opts.cleared) & kAtimeFlags) keep &= ~kAtimeFlags;  // an explicit atime choice wins
  return mountAt("", sys::fdPath(top), path, nullptr, MS_REMOUNT | MS_BIND | wanted | (keep & kPerMountFlags), "");
}

Status remountBind(const MountPoint& mp, const MountOptions& opts) {
  if ((opts.flags & kPerMountFlags) == 0 && (opts.cleared & kPerMountFlags) == 0) return {};
  UniqueFd top = TRY(openMountedTop(mp));
  return remountTop(top.get(), mp.path, opts);
}

Status bindMount(int rootFd, const spec::Mount& m, const MountOptions& opts) {
  if (!m.source || m.source->empty()) return Error("bind mount on " + m.destination + ": no source", EINVAL);
  // The source is host-side, named by the trusted config; relative sources are
  // relative to the cwd, which the runtime sets to the bundle directory.
  UniqueFd src(::open(m.source->c_str(), O_PATH | O_CLOEXEC));
  if (!src) return Error::fromErrno("bind mount source " + *m.source);
  struct stat st {};
  if (::fstat(src.get(), &st) != 0) return Error::fromErrno("stat bind mount source " + *m.source);
  MountPoint mp =
      TRY(openMountPoint(rootFd, m.destination, S_ISDIR(st.st_mode) ? TargetKind::Dir : TargetKind::File));
  if (opts.idmap) {
    if (m.uidMappings.empty() || m.gidMappings.empty())
      return Error("mount " + m.destination + ": idmap needs the mount's uidMappings and gidMappings", EINVAL);
    IdmapRequest req{src.get(), *m.source, opts.recursive() || opts.ridmap, opts.ridmap, m.uidMappings,
                     m.gidMappings};
    UniqueFd tree = TRY_CTX(openIdmappedTree(req), "idmapped mount on " + mp.path);
    TRY(attachTree(tree.get(), mp.fd.get(), mp.path));
  } else {
    TRY(mountAt(sys::fdPath(src.get()), sys::fdPath(mp.fd.get()), mp.path, nullptr, MS_BIND | (opts.flags & MS_REC),
                ""));
  }
  TRY(remountBind(mp, opts));
  return applyAfterMount(mp, opts);
}

struct CgroupLine {
  std::string controllers;  // "cpu,cpuacct", "name=systemd", "" for the unified one
  std::string path;         // the process's cgroup in that hierarchy
};

std::vector<CgroupLine> ownCgroups() {
  std::vector<CgroupLine> out;
  auto text = sys::readFile("/proc/self/cgroup");
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    out.push_back({line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  return out;
}

struct HostCgroupMount {
  std::string root;        // mountinfo field 4
  std::string mountPoint;  // mountinfo field 5
};

bool hasAllControllers(const std::string& superOpts, const std::string& controllers) {
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    for (std::string x; std::getline(in, x, ',');) v.push_back(x);
    return v;
  };
  std::vector<std::string> have = split(superOpts);
  for (const std::string& c : split(controllers)) {
    bool found = false;
    for (const std::string& h : have) found = found || h == c;
    if (!found) return false;
  }
  return true;
}

struct CgroupMountEntry {
  HostCgroupMount mount;
  std::string fstype;     // cgroup or cgroup2
  std::string superOpts;  // v1: the controllers, among other options
};

// The host's cgroup mounts, from one read of mountinfo (its generation is
// O(mounts), so it is read once per cgroup mount, not once per hierarchy).
std::vector<CgroupMountEntry> hostCgroupMounts() {
  std::vector<CgroupMountEntry> out;
  auto text = sys::readFile("/proc/self/mountinfo");
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(" - cgroup") == std::string::npos) continue;
    std::istringstream f(line);
    std::string id, parent, dev, root, mnt, mntOpts, field;
    f >> id >> parent >> dev >> root >> mnt >> mntOpts;
    while (f >> field && field != "-") {
    }
    std::string fstype, source, superOpts;
    f >> fstype >> source >> superOpts;
    if (fstype == "cgroup" || fstype == "cgroup2") out.push_back({{root, mnt}, fstype, superOpts});
  }
  return out;
}

// The host's mount of the hierarchy holding `controllers` (v1), or the
// cgroup2 mount when `controllers` is empty.
std::optional<HostCgroupMount> findHostCgroupMount(const std::vector<CgroupMountEntry>& mounts,
                                                   const std::string& controllers) {
  for (const auto& m : mounts) {
    if (controllers.empty() ? m.fstype == "cgroup2"
                            : (m.fstype == "cgroup" && hasAllControllers(m.superOpts, controllers)))
      return m.mount;
  }
  return std::nullopt;
}

std::string baseName(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

// Without the manager's list (RootfsOptions::cgroupHierarchies): every
// hierarchy this process is in, by /proc/self/cgroup, where the host mounts
// it, by mountinfo. Run after the init joined its cgroups, so the paths are
// the container's own.
std::vector<CgroupHierarchy> hierarchiesFromProc() {
  std::vector<CgroupHierarchy> out;
  const auto hostMounts = hostCgroupMounts();
  for (const CgroupLine& cg : ownCgroups()) {
    auto host = findHostCgroupMount(hostMounts, cg.controllers);
    if (!host) continue;  // a hierarchy the host does not mount (e.g. no cgroup2 on pure v1)
    std::string rel = cg.path;
    if (host->root != "/" && rel.compare(0, host->root.size(), host->root) == 0) rel = rel.substr(host->root.size());
    out.push_back({baseName(host->mountPoint), host->mountPoint + rel, cg.controllers});
  }
  return out;
}

// One hierarchy at `name` in the cgroup tree `treeFd`, whose directory is
// made first when `makeDir`: in a cgroup namespace a fresh mount (it shows
// the namespace's root, i.e. the container's cgroup), else the container's
// own cgroup directory cloned from the host's mount (open_tree + move_mount:
// no target fd and no /proc/self/fd path to resolve). A bind gets
// ro/nosuid/... later, from mountCgroup, for the whole tree at once.
Status mountCgroupHierarchy(int treeFd, const std::string& dest, const CgroupHierarchy& cg, const MountOptions& opts,
                            bool cgroupNs, bool makeDir) {
  const std::string& name = cg.name;
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return Error("cgroup hierarchy name \"" + name + "\" is not a directory name", EINVAL);
  const std::string path = dest + "/" + name;
  if (makeDir && ::mkdirat(treeFd, name.c_str(), 0755) != 0 && errno != EEXIST) return Error::fromErrno("mkdir " + path);
  auto target = [&]() -> Result<UniqueFd> {
    UniqueFd fd(::openat(treeFd, name.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return Error::fromErrno("open " + path);
    return fd;
  };
  const bool v2 = cg.controllers.empty();
  if (cgroupNs) {
    UniqueFd fd = TRY(target());
    TRY(mountAt("cgroup", sys::fdPath(fd.get()), path, v2 ? "cgroup2" : "cgroup",
                opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT), v2 ? "" : cg.controllers));
  } else if (UniqueFd tree(sys::openTree(AT_FDCWD, cg.hostDir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)); tree) {
    if (sys::moveMount(tree.get(), "", treeFd, name.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
      return Error::fromErrno("move_mount " + cg.hostDir + " onto " + path);
  } else {
    if (errno != ENOSYS) return Error::fromErrno("open_tree " + cg.hostDir);
    UniqueFd fd = TRY(target());  // before Linux 5.2
    TRY(mountAt(cg.hostDir, sys::fdPath(fd.get()), path, nullptr, MS_BIND, ""));
  }
  // Co-mounted controllers get a link per name, as on the host (cpu -> cpu,cpuacct).
  if (makeDir && !v2 && cg.controllers.find(',') != std::string::npos) {
    std::istringstream in(cg.controllers);
    for (std::string c; std::getline(in, c, ',');)
      if (c != name && c.find('=') == std::string::npos) (void)::symlinkat(name.c_str(), treeFd, c.c_str());
  }
  return {};
}

// Whether every hierarchy is mounted where the host's cgroup tmpfs has its
// directory: /sys/fs/cgroup/<name>.
bool allInHostCgroupTmpfs(const std::vector<CgroupHierarchy>& hierarchies) {
  if (hierarchies.empty()) return false;
  for (const CgroupHierarchy& cg : hierarchies) {
    const std::string top = "/sys/fs/cgroup/" + cg.name;
    if (cg.hostDir.compare(0, top.size(), top) != 0 || (cg.hostDir.size() > top.size() && cg.hostDir[top.size()] != '/'))
      return false;
  }
  return true;
}

// type "cgroup". cgroup2 host: one cgroup2 mount (or a bind of our own cgroup
// without a cgroup namespace). v1/hybrid host: a tmpfs holding one mount per
// hierarchy this process belongs to. When the mount is read-only and nothing
// in the container can remount it (RootfsOptions::mayShareHostCgroupTmpfs),
// that tmpfs is a bind of the host's own: its directories are the mount
// points of the very hierarchies we bind, so none is made (a tmpfs, nine
// mkdirs and the links cost ~0.1 ms of the init's time on a v1 host).
Status mountCgroup(int rootFd, const spec::Mount& m, const MountOptions& opts, bool cgroupNs,
                   const RootfsOptions& ro) {
  MountPoint mp = TRY(openMountPoint(rootFd, m.destination, TargetKind::Dir));
  const unsigned long flags = opts.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  struct statfs sfs {};
  const bool statted = ::statfs("/sys/fs/cgroup", &sfs) == 0;
  if (statted && sfs.f_type == CGROUP2_SUPER_MAGIC) {
    if (cgroupNs) {
      TRY(mountAt("cgroup2", sys::fdPath(mp.fd.get()), mp.path, "cgroup2", flags, opts.data));
    } else {
      std::string own = "/";
      for (const auto& cg : ownCgroups())
        if (cg.controllers.empty()) own = cg.path;
      TRY(mountAt("/sys/fs/cgroup" + own, sys::fdPath(mp.fd.get()), mp.path, nullptr, MS_BIND | MS_REC, ""));
      TRY(remountBind(mp, opts));
    }
    return applyAfterMount(mp, opts);
  }

  const std::vector<CgroupHierarchy> fromProc =
      ro.cgroupHierarchies.empty() ? hierarchiesFromProc() : std::vector<CgroupHierarchy>{};
  const std::vector<CgroupHierarchy>& hierarchies = ro.cgroupHierarchies.empty() ? fromProc : ro.cgroupHierarchies;
  bool shared = false;
  if (ro.mayShareHostCgroupTmpfs && (flags & MS_RDONLY) && statted && sfs.f_type == TMPFS_MAGIC &&
      allInHostCgroupTmpfs(ro.cgroupHierarchies)) {
    UniqueFd host(sys::openTree(AT_FDCWD, "/sys/fs/cgroup", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!host && errno != ENOSYS) return Error::fromErrno("open_tree /sys/fs/cgroup");
    if (host) {
      TRY(attachTree(host.get(), mp.fd.get(), mp.path));
      shared = true;
    }
  }
  if (!shared) TRY(mountAt("tmpfs", sys::fdPath(mp.fd.get()), mp.path, "tmpfs", flags & ~MS_RDONLY, "mode=755"));
  UniqueFd top = TRY(openMountedTop(mp));
  for (const CgroupHierarchy& cg : hierarchies)
    TRY_CTX(mountCgroupHierarchy(top.get(), mp.path, cg, opts, cgroupNs, !shared), "cgroup mount " + mp.path);
  // The options go on in one mount_setattr(AT_RECURSIVE) over the tmpfs and
  // every hierarchy in it: a remount per bind costs two mount syscalls (and
  // their namespace lock) per hierarchy, ~0.4 ms per container on v1. The
  // tree is ours alone: nothing in the container runs yet to swap it.
  uint64_t set = 0, clear = 0;
  toMountAttr(flags & kPerMountFlags, opts.cleared & kPerMountFlags, set, clear);
  if (set == 0 && clear == 0) return applyAfterMount(mp, opts);
  if (Status st = setMountAttrs(top.get(), mp.path, set, clear, true); !st) {
    if (st.error().code() != ENOSYS) return st;
    // Before Linux 5.12: one remount per mount.
    if (!cgroupNs)
      for (const CgroupHierarchy& cg : hierarchies) {
        UniqueFd bind(::openat(top.get(), cg.name.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC));
        if (!bind) return Error::fromErrno("open " + mp.path + "/" + cg.name);
        TRY_CTX(remountTop(bind.get(), mp.path + "/" + cg.name, opts), "cgroup mount " + mp.path);
      }
    if (flags & MS_RDONLY) {
      unsigned long have = TRY(mountFlagsOf(top.get()));
      TRY(mountAt("", sys::fdPath(top.get()), mp.path, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | have, ""));
    }
  }
  return applyAfterMount(mp, opts);
}

}  // namespace

Status mountEntry(int rootFd, const spec::Mount& m, bool cgroupNs, const RootfsOptions& ro) {
  MountOptions opts = parseMountOptions(m.options);
  if (opts.idmap && !opts.bind())
    return Error("mount " + m.destination + ": idmap/ridmap is only supported on bind mounts", ENOTSUP);
  const std::string type = m.type.value_or("");
  if (opts.bind()) return bindMount(rootFd, m, opts);
  if (type == "cgroup") return mountCgroup(rootFd, m, opts, cgroupNs, ro);

  // "remount" re-mounts what is already there: the target must exist.
  const bool remount = (opts.flags & MS_REMOUNT) != 0;
  MountPoint mp = TRY(openMountPoint(rootFd, m.destination, remount ? TargetKind::MustExist : TargetKind::Dir));
  Status mounted = mountAt(remount ? "" : m.source.value_or(type), sys::fdPath(mp.fd.get()), mp.path,
                           type.empty() ? nullptr : type.c_str(), opts.flags, opts.data);
  if (!mounted && type == "sysfs" && mounted.error().code() == EPERM) {
    // A user namespace that does not own the network namespace (rootless
    // without a new netns) may not mount sysfs: bind the host's, as runc and
    // crun do. This runs before pivot_root, so /sys is still the host's.
    MountOptions bind = opts;
    bind.flags &= kPerMountFlags;  // ro, nosuid, nodev, noexec stay; the rest is sysfs data
    TRY_CTX(mountAt("/sys", sys::fdPath(mp.fd.get()), mp.path, nullptr, MS_BIND | MS_REC, ""),
            "sysfs fallback after " + mounted.error().message());
    TRY(remountBind(mp, bind));
    return applyAfterMount(mp, opts);
  }
  TRY(std::move(mounted));
  if (remount) return {};
  return applyAfterMount(mp, opts);
}

}  // namespace berth::fs
