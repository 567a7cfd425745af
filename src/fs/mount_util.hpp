// Internal to fs/: mount option parsing and fd-based mount targets.
//
// A mount target is held as (parent dir fd, last component name, fd of the
// target). mount(2) is pointed at /proc/self/fd/<target>, so the kernel uses
// the inode we resolved, not a string the rootfs could redirect. The catch:
// that magic link keeps naming the *covered* directory after the mount, so to
// operate on the new mount (remount, propagation, sub-mounts) we look the one
// component up again from the parent fd, which does cross into the new mount,
// and check that its mount id changed.
#pragma once

#include <sys/mount.h>

#include <cstdint>

#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace berth::fs {

struct MountOptions {
  unsigned long flags = 0;    // MS_* to set (MS_BIND|MS_REC for bind/rbind)
  unsigned long cleared = 0;  // MS_* an option explicitly turned off (rw, suid, dev, ...)
  std::vector<unsigned long> propagation;  // applied in order, after the mount
  std::string data;                       // unknown options joined with ','
  // Recursive attributes (rro, rnosuid, ...) for mount_setattr(AT_RECURSIVE).
  uint64_t recSet = 0;
  uint64_t recClear = 0;
  bool idmap = false;   // idmap or ridmap: an idmapped bind mount (fs/idmap.hpp)
  bool ridmap = false;  // ridmap: the mapping applies to the submounts too

  bool bind() const { return (flags & MS_BIND) != 0; }
  bool recursive() const { return (flags & MS_REC) != 0; }
};

MountOptions parseMountOptions(const std::vector<std::string>& options);

// Maps a propagation name (rootfsPropagation or a mount option) to MS_* flags;
// 0 when unknown.
unsigned long propagationFlags(const std::string& name);

// "0x4000" for error messages.
std::string hexFlags(unsigned long flags);

// Lexically cleans an in-container path: absolute, no "." or "..", ".."
// clamped at "/". Relative destinations are relative to "/" (runtime-spec).
std::string cleanPath(const std::string& path);

enum class TargetKind { Dir, File, MustExist };

struct MountPoint {
  std::string path;  // cleaned in-container path, for messages
  UniqueFd parent;   // O_PATH directory holding `name`
  std::string name;  // one component, never a symlink when we opened it
  UniqueFd fd;       // O_PATH fd of the target itself
};

// Resolves `dest` inside the root (symlinks followed, clamped), creating the
// parents and, per `kind`, the target as a directory or an empty file.
Result<MountPoint> openMountPoint(int rootFd, const std::string& dest, TargetKind kind);

// After a mount onto `mp`: an O_PATH fd to the root of the new top mount.
Result<UniqueFd> openMountedTop(const MountPoint& mp);

// mount(2) with a runc-style error: "mount <src> on <path> (type t, flags 0x..,
// data d): <strerror>". `target` is normally sys::fdPath(fd).
Status mountAt(const std::string& source, const std::string& target, const std::string& shownTarget,
               const char* type, unsigned long flags, const std::string& data);

// mount_setattr(2) on the mount `fd` is the root of (AT_RECURSIVE: and every
// mount below it), with a runc-style error naming `shownPath`; errno stays
// set, so a caller can fall back to remounts on ENOSYS (before Linux 5.12).
Status setMountAttrs(int fd, const std::string& shownPath, uint64_t set, uint64_t clear, bool recursive);

// The per-mount MS_* flags an option list sets (`flags`) and turns off
// (`cleared`) as mount_setattr(2) attributes, atime mode included.
void toMountAttr(unsigned long flags, unsigned long cleared, uint64_t& set, uint64_t& clear);

// Current per-mount flags of the mount holding `fd` (statvfs), as MS_* bits.
// Remounts must repeat locked flags (nosuid, nodev, ...) or fail with EPERM
// in a user namespace.
Result<unsigned long> mountFlagsOf(int fd);

}  // namespace berth::fs
