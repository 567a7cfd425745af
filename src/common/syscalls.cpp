#include "common/syscalls.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace berth::sys {

pid_t clone3(CloneArgs& args) { return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof args)); }

pid_t clone3IntoCgroup(CloneArgs& args, int cgroupFd, bool* placed) {
  constexpr uint64_t kIntoCgroup = 0x200000000ULL;  // CLONE_INTO_CGROUP (linux/sched.h, 5.7)
  *placed = false;
  if (cgroupFd >= 0) {
    args.flags |= kIntoCgroup;
    args.cgroup = static_cast<uint64_t>(cgroupFd);
  }
  pid_t pid = clone3(args);
  if (pid < 0 && errno == E2BIG && cgroupFd >= 0) {
    args.flags &= ~kIntoCgroup;
    args.cgroup = 0;
    return clone3(args);
  }
  // Only the parent's copy of *placed matters; the child's is set too.
  *placed = pid >= 0 && cgroupFd >= 0;
  return pid;
}

int openat2(int dirfd, const char* path, const open_how& how) {
  return static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

int pidfdOpen(pid_t pid, unsigned flags) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags)); }

int pidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

int pivotRoot(const char* newRoot, const char* putOld) {
  return static_cast<int>(::syscall(SYS_pivot_root, newRoot, putOld));
}

int closeRange(unsigned first, unsigned last, unsigned flags) {
  return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
}

int openTree(int dirfd, const char* path, unsigned flags) {
  return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
}

int moveMount(int fromDirfd, const char* fromPath, int toDirfd, const char* toPath, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, fromDirfd, fromPath, toDirfd, toPath, flags));
}

int fsopen(const char* fsname, unsigned flags) { return static_cast<int>(::syscall(SYS_fsopen, fsname, flags)); }

int fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}

int fsmount(int fd, unsigned flags, unsigned attrFlags) {
  return static_cast<int>(::syscall(SYS_fsmount, fd, flags, attrFlags));
}

int mountSetattr(int dirfd, const char* path, unsigned flags, void* attr, size_t size) {
  return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, attr, size));
}

std::string fdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Result<std::string> readFileAt(int dirfd, const std::string& path) {
  UniqueFd fd(::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return Error::fromErrno("open " + path);
  return readAll(fd.get(), path);
}

Result<std::string> readAll(int fd, const std::string& what) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno("read " + what);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> readFile(const std::string& path) { return readFileAt(AT_FDCWD, path); }

Status writeAll(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno("write");
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

Status writeFile(const std::string& path, const std::string& data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY));
  if (!fd) return Error::fromErrno("open " + path);
  // One write(2): cgroup and proc files treat each write as one value.
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return Error::fromErrno("write " + path);
  if (static_cast<size_t>(n) != data.size()) return Error("short write to " + path);
  return {};
}

Status writeFileAtomic(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) return Error::fromErrno("create " + tmp);
    if (auto st = writeAll(fd.get(), data.data(), data.size()); !st) {
      ::unlink(tmp.c_str());
      return std::move(st).error().context(tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = Error::fromErrno("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

Status mkdirAll(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  std::string cur;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    cur = path.substr(0, next);
    if (!cur.empty() && ::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST)
      return Error::fromErrno("mkdir " + cur);
    pos = next + 1;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error::fromErrno("stat " + path);
  if (!S_ISDIR(st.st_mode)) return Error("mkdir " + path + ": not a directory");
  return {};
}

Result<uint64_t> processStartTime(pid_t pid) {
  auto stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::move(stat).error();
  // comm (field 2) may contain spaces and parens: parse after the last ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return Error("malformed /proc/" + std::to_string(pid) + "/stat");
  const char* p = stat->c_str() + close + 2;  // field 3 starts here
  // Skip fields 3..21 (19 fields) to reach field 22.
  for (int field = 3; field < 22; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return Error("malformed /proc/" + std::to_string(pid) + "/stat");
    ++p;
  }
  return static_cast<uint64_t>(std::strtoull(p, nullptr, 10));
}

}  // namespace berth::sys
