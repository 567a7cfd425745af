// Runs test code in a forked child so privilege drops stay there; the child
// reports back as text through a pipe.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

#include "common/syscalls.hpp"

namespace berth::security::testing {

struct ChildResult {
  int waitStatus = -1;
  std::string output;
  bool exitedCleanly() const { return WIFEXITED(waitStatus) && WEXITSTATUS(waitStatus) == 0; }
};

// fn runs in the child; what it returns is the parent's `output`. Also used
// for children that execve: then fn gets the pipe's write end on fd 1.
inline ChildResult inChild(const std::function<std::string()>& fn, bool stdoutToPipe = false) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (stdoutToPipe) ::dup2(fds[1], 1);
    std::string out;
    try {
      out = fn();
    } catch (...) {
      out = "exception in child";
    }
    (void)sys::writeAll(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  ChildResult r;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) r.output.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  while (::waitpid(pid, &r.waitStatus, 0) < 0 && errno == EINTR) {
  }
  return r;
}

// A "CapEff:\t0000..." style field of a /proc/<pid>/status text.
inline uint64_t statusMask(const std::string& status, const std::string& field) {
  size_t at = status.find(field + ":\t");
  if (at == std::string::npos) return ~uint64_t{0};
  return std::strtoull(status.c_str() + at + field.size() + 2, nullptr, 16);
}

inline std::string selfStatus() {
  auto s = sys::readFile("/proc/self/status");
  return s ? *s : std::string();
}

}  // namespace berth::security::testing
