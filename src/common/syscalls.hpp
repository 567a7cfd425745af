// Thin wrappers for syscalls glibc 2.36 does not wrap (or wraps late), plus a
// few helpers every module needs. Each returns -1 with errno set, like libc.
#pragma once

#include <linux/openat2.h>
#include <sched.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace berth::sys {

struct CloneArgs {
  uint64_t flags = 0;
  uint64_t pidfd = 0;
  uint64_t child_tid = 0;
  uint64_t parent_tid = 0;
  uint64_t exit_signal = 0;
  uint64_t stack = 0;
  uint64_t stack_size = 0;
  uint64_t tls = 0;
  uint64_t set_tid = 0;
  uint64_t set_tid_size = 0;
  uint64_t cgroup = 0;
};

// clone3 without a new stack: behaves like fork() in the child (returns 0).
pid_t clone3(CloneArgs& args);
// clone3 into the cgroup2 directory `cgroupFd` (CLONE_INTO_CGROUP) when it is
// >= 0. A kernel without CLONE_INTO_CGROUP (E2BIG) gets a plain clone3, and
// *placed says whether the child was born in the cgroup.
pid_t clone3IntoCgroup(CloneArgs& args, int cgroupFd, bool* placed);
int openat2(int dirfd, const char* path, const open_how& how);
int pidfdOpen(pid_t pid, unsigned flags = 0);
int pidfdSendSignal(int pidfd, int sig);
int pivotRoot(const char* newRoot, const char* putOld);
int closeRange(unsigned first, unsigned last, unsigned flags);
int openTree(int dirfd, const char* path, unsigned flags);
int moveMount(int fromDirfd, const char* fromPath, int toDirfd, const char* toPath, unsigned flags);
int fsopen(const char* fsname, unsigned flags);
int fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux);
int fsmount(int fd, unsigned flags, unsigned attrFlags);
int mountSetattr(int dirfd, const char* path, unsigned flags, void* attr, size_t size);

// "/proc/self/fd/N": the path through which a syscall that only takes paths
// (mount(2) source/target) operates on an fd we already hold.
std::string fdPath(int fd);

// Reads a whole (small) file. Used for /proc and cgroup files.
Result<std::string> readFile(const std::string& path);
Result<std::string> readFileAt(int dirfd, const std::string& path);
// Reads `fd` until EOF (a pipe from a helper, a file); `what` names it in errors.
Result<std::string> readAll(int fd, const std::string& what);
// Writes `data` to an existing file (O_WRONLY|O_TRUNC).
Status writeFile(const std::string& path, const std::string& data);
// Writes to a new file atomically: tmp file in the same dir, fsync, rename.
Status writeFileAtomic(const std::string& path, const std::string& data, mode_t mode = 0644);
// mkdir -p with `mode`; existing directories are fine.
Status mkdirAll(const std::string& path, mode_t mode = 0755);

// Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot.
// Together with the pid it identifies a process; a recycled pid differs.
Result<uint64_t> processStartTime(pid_t pid);

// write()/read() that retry on EINTR and short counts.
Status writeAll(int fd, const void* data, size_t len);

}  // namespace berth::sys
