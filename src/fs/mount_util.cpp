#include "fs/mount_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>

#include "common/syscalls.hpp"
#include "fs/safe_path.hpp"

namespace berth::fs {
namespace {

struct FlagOption {
  bool clear;  // the option turns the flag off
  unsigned long flag;
};

const std::map<std::string, FlagOption>& flagTable() {
  static const std::map<std::string, FlagOption> table = {
      {"defaults", {false, 0}},
      {"ro", {false, MS_RDONLY}},           {"rw", {true, MS_RDONLY}},
      {"nosuid", {false, MS_NOSUID}},       {"suid", {true, MS_NOSUID}},
      {"nodev", {false, MS_NODEV}},         {"dev", {true, MS_NODEV}},
      {"noexec", {false, MS_NOEXEC}},       {"exec", {true, MS_NOEXEC}},
      {"sync", {false, MS_SYNCHRONOUS}},    {"async", {true, MS_SYNCHRONOUS}},
      {"dirsync", {false, MS_DIRSYNC}},     {"remount", {false, MS_REMOUNT}},
      {"mand", {false, MS_MANDLOCK}},       {"nomand", {true, MS_MANDLOCK}},
      {"noatime", {false, MS_NOATIME}},     {"atime", {true, MS_NOATIME}},
      {"nodiratime", {false, MS_NODIRATIME}}, {"diratime", {true, MS_NODIRATIME}},
      {"relatime", {false, MS_RELATIME}},   {"norelatime", {true, MS_RELATIME}},
      {"strictatime", {false, MS_STRICTATIME}}, {"nostrictatime", {true, MS_STRICTATIME}},
      {"lazytime", {false, MS_LAZYTIME}},   {"nolazytime", {true, MS_LAZYTIME}},
      {"iversion", {false, MS_I_VERSION}},  {"noiversion", {true, MS_I_VERSION}},
      {"silent", {false, MS_SILENT}},       {"loud", {true, MS_SILENT}},
      {"nosymfollow", {false, MS_NOSYMFOLLOW}}, {"symfollow", {true, MS_NOSYMFOLLOW}},
      {"bind", {false, MS_BIND}},           {"rbind", {false, MS_BIND | MS_REC}},
  };
  return table;
}

struct RecAttr {
  uint64_t set;
  uint64_t clear;
};

// The AT_RECURSIVE variants (runtime-spec "r" options), for mount_setattr.
const std::map<std::string, RecAttr>& recTable() {
  static const std::map<std::string, RecAttr> table = {
      {"rro", {MOUNT_ATTR_RDONLY, 0}},           {"rrw", {0, MOUNT_ATTR_RDONLY}},
      {"rnosuid", {MOUNT_ATTR_NOSUID, 0}},       {"rsuid", {0, MOUNT_ATTR_NOSUID}},
      {"rnodev", {MOUNT_ATTR_NODEV, 0}},         {"rdev", {0, MOUNT_ATTR_NODEV}},
      {"rnoexec", {MOUNT_ATTR_NOEXEC, 0}},       {"rexec", {0, MOUNT_ATTR_NOEXEC}},
      {"rnodiratime", {MOUNT_ATTR_NODIRATIME, 0}}, {"rdiratime", {0, MOUNT_ATTR_NODIRATIME}},
      {"rnosymfollow", {MOUNT_ATTR_NOSYMFOLLOW, 0}}, {"rsymfollow", {0, MOUNT_ATTR_NOSYMFOLLOW}},
      // The atime mode is one field: clearing MOUNT_ATTR__ATIME selects it.
      {"rnoatime", {MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME}},
      {"rstrictatime", {MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME}},
      {"rnorelatime", {MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME}},
      {"rrelatime", {MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME}},
      {"ratime", {MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME}},
      {"rnostrictatime", {MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME}},
  };
  return table;
}

// In-root path of a directory fd, from the kernel's own view of both paths.
Result<std::string> pathInRoot(int rootFd, int dirFd) {
  char rootBuf[4096], dirBuf[4096];
  ssize_t rn = ::readlink(sys::fdPath(rootFd).c_str(), rootBuf, sizeof rootBuf - 1);
  ssize_t dn = ::readlink(sys::fdPath(dirFd).c_str(), dirBuf, sizeof dirBuf - 1);
  if (rn < 0 || dn < 0) return Error::fromErrno("readlink /proc/self/fd");
  std::string root(rootBuf, static_cast<size_t>(rn)), dir(dirBuf, static_cast<size_t>(dn));
  if (root == "/") return dir;
  if (dir == root) return std::string("/");
  if (dir.compare(0, root.size() + 1, root + "/") != 0) return Error("directory " + dir + " is outside the rootfs");
  return dir.substr(root.size());
}

}  // namespace

unsigned long propagationFlags(const std::string& name) {
  static const std::map<std::string, unsigned long> table = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  auto it = table.find(name);
  return it == table.end() ? 0 : it->second;
}

MountOptions parseMountOptions(const std::vector<std::string>& options) {
  MountOptions out;
  for (const std::string& opt : options) {
    if (auto it = flagTable().find(opt); it != flagTable().end()) {
      if (it->second.clear) {
        out.flags &= ~it->second.flag;
        out.cleared |= it->second.flag;
      } else {
        out.flags |= it->second.flag;
        out.cleared &= ~it->second.flag;
      }
    } else if (unsigned long p = propagationFlags(opt); p != 0) {
      out.propagation.push_back(p);
    } else if (auto rt = recTable().find(opt); rt != recTable().end()) {
      const RecAttr& a = rt->second;
      if (a.clear == MOUNT_ATTR__ATIME) {
        out.recSet = (out.recSet & ~uint64_t{MOUNT_ATTR__ATIME}) | a.set;
        out.recClear |= MOUNT_ATTR__ATIME;
      } else {
        out.recSet = (out.recSet & ~a.clear) | a.set;
        out.recClear = (out.recClear & ~a.set) | a.clear;
      }
    } else if (opt == "idmap" || opt == "ridmap") {
      out.idmap = true;
      out.ridmap = out.ridmap || opt == "ridmap";
    } else if (opt == "tmpcopyup") {
      // runc copies the covered directory's content into the new tmpfs; we do
      // not (yet), and the option must not reach the filesystem as data.
    } else {
      if (!out.data.empty()) out.data += ',';
      out.data += opt;
    }
  }
  return out;
}

std::string hexFlags(unsigned long flags) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%lx", flags);
  return buf;
}

std::string cleanPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    std::string c = path.substr(pos, next - pos);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(std::move(c));
    }
    pos = next + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

Result<MountPoint> openMountPoint(int rootFd, const std::string& dest, TargetKind kind) {
  std::string path = cleanPath(dest);
  const std::string asked = path;
  for (int links = 0; links <= 40; ++links) {
    if (path == "/") return Error("mount target " + asked + ": cannot mount over the rootfs itself", EINVAL);
    size_t slash = path.rfind('/');
    std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    std::string name = path.substr(slash + 1);

    UniqueFd parent;
    if (kind == TargetKind::MustExist) {
      parent = TRY_CTX(openInRoot(rootFd, dir, O_PATH | O_DIRECTORY), "mount target " + asked);
    } else {
      parent = TRY_CTX(mkdirAllInRoot(rootFd, dir), "mount target " + asked);
    }
    struct stat st {};
    bool created = false;
    while (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT || kind == TargetKind::MustExist || created) return Error::fromErrno("mount target " + asked);
      int rc = 0;
      if (kind == TargetKind::Dir) {
        rc = ::mkdirat(parent.get(), name.c_str(), 0755);
      } else {
        rc = ::openat(parent.get(), name.c_str(), O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (rc >= 0) ::close(rc);
      }
      if (rc < 0 && errno != EEXIST) return Error::fromErrno("create mount target " + asked);
      // Look again at what is there now, in the parent already resolved:
      // resolving it again costs a walk in the root per new mount point.
      created = true;
    }
    if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t n = ::readlinkat(parent.get(), name.c_str(), buf, sizeof buf - 1);
      if (n < 0) return Error::fromErrno("readlink mount target " + asked);
      std::string target(buf, static_cast<size_t>(n));
      if (target.empty() || target[0] != '/') {
        // Relative to where the parent really is, which may differ from
        // `dir` if `dir` itself went through symlinks.
        std::string realDir = TRY_CTX(pathInRoot(rootFd, parent.get()), "mount target " + asked);
        target = realDir + "/" + target;
      }
      path = cleanPath(target);
      continue;
    }
    if (kind == TargetKind::Dir && !S_ISDIR(st.st_mode))
      return Error("mount target " + asked + ": exists and is not a directory", ENOTDIR);
    if (kind == TargetKind::File && S_ISDIR(st.st_mode))
      return Error("mount target " + asked + ": exists and is a directory", EISDIR);
    UniqueFd fd(::openat(parent.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return Error::fromErrno("open mount target " + asked);
    struct stat fst {};
    if (::fstat(fd.get(), &fst) != 0) return Error::fromErrno("stat mount target " + asked);
    if (S_ISLNK(fst.st_mode)) continue;  // swapped under us: resolve again
    return MountPoint{path, std::move(parent), std::move(name), std::move(fd)};
  }
  return Error("mount target " + asked, ELOOP);
}

Result<UniqueFd> openMountedTop(const MountPoint& mp) {
  UniqueFd top(::openat(mp.parent.get(), mp.name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!top) return Error::fromErrno("reopen " + mp.path + " after mount");
  struct statx before {}, after {};
  if (::statx(mp.fd.get(), "", AT_EMPTY_PATH, STATX_MNT_ID, &before) != 0 ||
      ::statx(top.get(), "", AT_EMPTY_PATH, STATX_MNT_ID, &after) != 0)
    return Error::fromErrno("statx " + mp.path);
  if (before.stx_mnt_id == after.stx_mnt_id)
    return Error("reopen " + mp.path + " after mount: the new mount is not there (target replaced?)", EBUSY);
  return top;
}

Status mountAt(const std::string& source, const std::string& target, const std::string& shownTarget,
               const char* type, unsigned long flags, const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) == 0) return {};
  std::string msg = "mount " + (source.empty() ? std::string("none") : source) + " on " + shownTarget + " (type " +
                    (type && *type ? type : "none") + ", flags " + hexFlags(flags);
  if (!data.empty()) msg += ", data " + data;
  msg += ")";
  return Error::fromErrno(msg);
}

Result<unsigned long> mountFlagsOf(int fd) {
  struct statvfs sv {};
  if (::fstatvfs(fd, &sv) != 0) return Error::fromErrno("statvfs");
  unsigned long flags = 0;
  if (sv.f_flag & ST_RDONLY) flags |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

Status setMountAttrs(int fd, const std::string& shownPath, uint64_t set, uint64_t clear, bool recursive) {
  struct mount_attr attr {};
  attr.attr_set = set;
  attr.attr_clr = clear;
  if (sys::mountSetattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) == 0) return {};
  return Error::fromErrno("mount_setattr " + shownPath + " (set " + hexFlags(set) + ", clear " + hexFlags(clear) + ")");
}

void toMountAttr(unsigned long flags, unsigned long cleared, uint64_t& set, uint64_t& clear) {
  static const std::pair<unsigned long, uint64_t> kPlain[] = {
      {MS_RDONLY, MOUNT_ATTR_RDONLY}, {MS_NOSUID, MOUNT_ATTR_NOSUID},         {MS_NODEV, MOUNT_ATTR_NODEV},
      {MS_NOEXEC, MOUNT_ATTR_NOEXEC}, {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME},
  };
  set = clear = 0;
  for (const auto& [ms, attr] : kPlain) {
    if (flags & ms) set |= attr;
    if (cleared & ms) clear |= attr;
  }
  // The atime mode is one field: clearing MOUNT_ATTR__ATIME selects it.
  if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) {
    clear |= MOUNT_ATTR__ATIME;
    set |= (flags & MS_NOATIME) ? MOUNT_ATTR_NOATIME : (flags & MS_STRICTATIME) ? MOUNT_ATTR_STRICTATIME
                                                                                 : MOUNT_ATTR_RELATIME;
  }
}

}  // namespace berth::fs
