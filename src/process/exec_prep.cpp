#include "process/exec_prep.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/syscalls.hpp"

namespace berth::process {
namespace {

std::string envValue(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& e : env)
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  return {};
}

Status checkExecutable(const std::string& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return Error("exec: stat " + p + ": no such file or directory");
    return Error::fromErrno("exec: stat " + p);
  }
  if (S_ISDIR(st.st_mode)) return Error("exec: " + p + ": is a directory");
  if (::access(p.c_str(), X_OK) != 0) return Error("exec: " + p + ": permission denied");
  return {};
}

}  // namespace

Result<std::string> findExecutable(const spec::Process& proc) {
  const std::string& name = proc.args[0];
  if (name.find('/') != std::string::npos) {
    TRY(checkExecutable(name));
    return name;
  }
  std::string path = envValue(proc.env, "PATH");
  if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (size_t pos = 0; pos <= path.size();) {
    size_t end = path.find(':', pos);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(pos, end - pos);
    std::string cand = (dir.empty() ? "." : dir) + "/" + name;
    if (checkExecutable(cand)) return cand;
    pos = end + 1;
  }
  return Error("exec: \"" + name + "\": executable file not found in $PATH");
}

void closeUnwantedFds(int extraFds, int keepFd) {
  unsigned first = 3 + static_cast<unsigned>(extraFds);
  if (keepFd >= static_cast<int>(first)) {
    if (keepFd > static_cast<int>(first)) sys::closeRange(first, static_cast<unsigned>(keepFd) - 1, 0);
    sys::closeRange(static_cast<unsigned>(keepFd) + 1, ~0U, 0);
  } else {
    sys::closeRange(first, ~0U, 0);
  }
  for (int fd = 3; fd < static_cast<int>(first); ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
}

}  // namespace berth::process
