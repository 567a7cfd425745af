// Helpers for the fs tests: temp dirs, and running a scenario in a forked
// child inside its own mount namespace (made rprivate first, so nothing the
// scenario mounts can reach the host; the mounts die with the child).
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gtest/gtest.h>

namespace berth::fs::testing {

inline std::string makeTempDir() {
  char tmpl[] = "/tmp/berth-fs-test-XXXXXX";
  char* p = ::mkdtemp(tmpl);
  return p ? std::string(p) : std::string();
}

inline void writeText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

inline std::string readText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class TempDir {
 public:
  TempDir() : path_(makeTempDir()) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// A scenario returns "" on success, else what went wrong.
using Scenario = std::function<std::string()>;

// Runs `body` in a forked child in a private mount namespace and returns its
// verdict (the child's message, or how it died).
inline std::string runInMountNs(const Scenario& body) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(pipefd[0]);
    std::string verdict;
    if (::unshare(CLONE_NEWNS) != 0) {
      verdict = "unshare(CLONE_NEWNS) failed";
    } else if (::mount("", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      verdict = "make / rprivate failed";
    } else {
      verdict = body();
    }
    if (!verdict.empty()) (void)!::write(pipefd[1], verdict.data(), verdict.size());
    ::_exit(verdict.empty() ? 0 : 1);
  }
  ::close(pipefd[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return "child killed by signal " + std::to_string(WTERMSIG(status)) + " " + msg;
  if (WEXITSTATUS(status) != 0 && msg.empty()) return "child exited " + std::to_string(WEXITSTATUS(status));
  return msg;
}

inline bool isRoot() { return ::geteuid() == 0; }

}  // namespace berth::fs::testing

// Inside a scenario: fail with a message built from the condition.
#define SCENARIO_CHECK(cond)                                                   \
  do {                                                                         \
    if (!(cond)) return std::string("check failed: " #cond " (line ") +         \
                        std::to_string(__LINE__) + ", errno " + std::to_string(errno) + ")"; \
  } while (0)

#define SCENARIO_OK(status)                                                    \
  do {                                                                         \
    auto&& s_ = (status);                                                      \
    if (!s_.ok()) return std::string(#status ": ") + s_.error().message();     \
  } while (0)
