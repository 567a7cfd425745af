#include "security/exe_guard.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/unique_fd.hpp"

namespace berth::security {
namespace {

// The kernel follows at most four interpreter levels (BINPRM_MAX_RECURSION);
// one more covers the program itself.
constexpr int kMaxDepth = 5;

// The interpreter a `#!` line names, or "" for anything else.
std::string interpreterOf(int fd) {
  char buf[256];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n < 2 || buf[0] != '#' || buf[1] != '!') return {};
  std::string line(buf + 2, static_cast<size_t>(n) - 2);
  line = line.substr(0, line.find('\n'));
  size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos) return {};
  size_t end = line.find_first_of(" \t", start);
  return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

Result<FileIdentity> runtimeBinaryIdentity() {
  UniqueFd self(::open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!self) return Error::fromErrno("open /proc/self");
  struct statfs sfs {};
  if (::fstatfs(self.get(), &sfs) != 0) return Error::fromErrno("statfs /proc/self");
  if (sfs.f_type != PROC_SUPER_MAGIC) return Error("/proc is not procfs", EXDEV);
  struct stat st {};
  if (::fstatat(self.get(), "exe", &st, 0) != 0) return Error::fromErrno("stat /proc/self/exe");
  return FileIdentity{st.st_dev, st.st_ino};
}

Status refuseRuntimeBinary(const std::string& program, const FileIdentity& runtime) {
  std::string path = program;
  for (int depth = 0; depth < kMaxDepth && !path.empty(); ++depth) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) return {};  // execve will report it
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return {};
    if (st.st_dev == runtime.dev && st.st_ino == runtime.ino)
      return Error("exec: " + program + ": resolves to the runtime binary (" + path +
                       "), which a container must never run (CVE-2019-5736)",
                   EPERM);
    path = interpreterOf(fd.get());
  }
  return {};
}

}  // namespace berth::security
