#include "hooks/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

#include "common/log.hpp"
#include "common/syscalls.hpp"
#include "common/unique_fd.hpp"

namespace berth::hooks {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::fromErrno("pipe2");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Status setNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return Error::fromErrno("fcntl O_NONBLOCK");
  return {};
}

// A C array view of strings for execve, built before fork so the child only
// makes syscalls.
struct CStrings {
  explicit CStrings(const std::vector<std::string>& v) {
    ptrs.reserve(v.size() + 1);
    for (const auto& s : v) ptrs.push_back(const_cast<char*>(s.c_str()));
    ptrs.push_back(nullptr);
  }
  char* const* get() const { return ptrs.data(); }
  std::vector<char*> ptrs;
};

struct ChildFds {
  int in, out, err, execErr;
};

[[noreturn]] void failInChild(int reportFd) noexcept {
  int e = errno;
  (void)!::write(reportFd, &e, sizeof e);
  ::_exit(127);
}

// The hook's side of fork: stdin/stdout/stderr onto the pipes, the exec
// error pipe on fd 3 (CLOEXEC: a successful execve closes it, which is how
// the parent tells "exec failed" from "the hook exited 127"), nothing else.
[[noreturn]] void execHook(ChildFds fds, const char* path, char* const* argv, char* const* envp) noexcept {
  // Lift every fd above 10 first: if the runtime was started with 0/1/2
  // closed, a pipe end may sit on the very number another must be moved to.
  int moved[4];
  const int src[4] = {fds.in, fds.out, fds.err, fds.execErr};
  for (int i = 0; i < 4; ++i) {
    moved[i] = ::fcntl(src[i], F_DUPFD_CLOEXEC, 10);
    if (moved[i] < 0) failInChild(fds.execErr);
  }
  for (int target = 0; target < 3; ++target)
    if (::dup2(moved[target], target) < 0) failInChild(moved[3]);
  if (::dup3(moved[3], 3, O_CLOEXEC) < 0) failInChild(moved[3]);
  // Every fd of the runtime is CLOEXEC already; this makes it true even for
  // one a library opened carelessly.
  sys::closeRange(4, ~0U, 0);
  // A timeout kills the whole group, so a shell script's children go too.
  ::setpgid(0, 0);
  // The runtime blocks or ignores SIGPIPE while feeding stdin; the hook
  // deserves the default behaviour. The signal mask survives execve.
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(path, argv, envp);
  failInChild(3);
}

// Blocks SIGPIPE while the state is written, so a hook that exits without
// reading stdin costs an EPIPE, not the runtime's life. A SIGPIPE raised
// meanwhile is consumed before the mask is restored.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    ::sigprocmask(SIG_BLOCK, &pipe_, &old_);
    sigset_t pending;
    sigpending(&pending);
    wasPending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlock() {
    sigset_t pending;
    if (!wasPending_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      timespec zero{};
      ::sigtimedwait(&pipe_, nullptr, &zero);
    }
    ::sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_{}, old_{};
  bool wasPending_ = false;
};

struct Capture {
  UniqueFd fd;
  std::string data;
  bool truncated = false;
};

// Reads what the pipe holds now; closes it at EOF.
void drain(Capture& c) {
  char buf[4096];
  while (c.fd) {
    ssize_t n = ::read(c.fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      c.fd.reset();
      return;
    }
    size_t room = kMaxCapturedOutput - c.data.size();
    size_t take = std::min(room, static_cast<size_t>(n));
    c.data.append(buf, take);
    if (take < static_cast<size_t>(n)) c.truncated = true;
  }
}

std::string describe(const Capture& c) {
  std::string s = c.data;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  if (c.truncated) s += " [truncated]";
  return s;
}

int64_t nowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

pid_t reap(pid_t pid, int* status) {
  pid_t r;
  do r = ::waitpid(pid, status, 0);
  while (r < 0 && errno == EINTR);
  return r;
}

void killAndReap(pid_t pid) {
  ::kill(-pid, SIGKILL);  // the hook's process group (see execHook)
  ::kill(pid, SIGKILL);   // in case setpgid did not happen yet
  int status = 0;
  reap(pid, &status);
}

struct Outcome {
  bool timedOut = false;
};

// Feeds stdin and collects output until the hook exits or the deadline.
Result<Outcome> supervise(int pidfd, UniqueFd& in, const std::string& state, Capture& out, Capture& err,
                          std::optional<int> timeoutSec) {
  SigpipeBlock noSigpipe;
  const int64_t deadline = timeoutSec ? nowMs() + int64_t{*timeoutSec} * 1000 : -1;
  size_t written = 0;
  if (state.empty()) in.reset();
  for (;;) {
    pollfd fds[4];
    nfds_t n = 0;
    fds[n++] = {pidfd, POLLIN, 0};
    int inIdx = -1, outIdx = -1, errIdx = -1;
    if (in) inIdx = static_cast<int>(n), fds[n++] = {in.get(), POLLOUT, 0};
    if (out.fd) outIdx = static_cast<int>(n), fds[n++] = {out.fd.get(), POLLIN, 0};
    if (err.fd) errIdx = static_cast<int>(n), fds[n++] = {err.fd.get(), POLLIN, 0};
    int waitMs = -1;
    if (deadline >= 0) {
      int64_t left = deadline - nowMs();
      if (left <= 0) return Outcome{true};
      waitMs = static_cast<int>(std::min<int64_t>(left, 1 << 30));
    }
    int r = ::poll(fds, n, waitMs);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno("poll");
    }
    if (r == 0) continue;  // the deadline check above decides
    if (inIdx >= 0 && fds[inIdx].revents) {
      ssize_t w = ::write(in.get(), state.data() + written, state.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      // EPIPE: the hook closed stdin without reading it all, which is its right.
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == state.size()) in.reset();
    }
    if (outIdx >= 0 && fds[outIdx].revents) drain(out);
    if (errIdx >= 0 && fds[errIdx].revents) drain(err);
    if (fds[0].revents & POLLIN) {
      // What the hook wrote before exiting is in the pipes; do not wait for
      // EOF, a background child of the hook may hold them open for ever.
      drain(out);
      drain(err);
      return Outcome{false};
    }
  }
}

}  // namespace

Status runHook(const spec::Hook& hook, const std::string& stateJson) {
  const std::string name = "hook " + hook.path;
  // Exec'ing a relative path would depend on the runtime's cwd.
  if (hook.path.empty() || hook.path[0] != '/') return Error(name + ": path must be absolute");
  const std::vector<std::string> argvStrings = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  const CStrings argv(argvStrings), envp(hook.env);

  Pipe in = TRY_CTX(makePipe(), name);
  Pipe out = TRY_CTX(makePipe(), name);
  Pipe err = TRY_CTX(makePipe(), name);
  Pipe execErr = TRY_CTX(makePipe(), name);

  pid_t pid = ::fork();
  if (pid < 0) return Error::fromErrno(name + ": fork");
  if (pid == 0)
    execHook({in.read.get(), out.write.get(), err.write.get(), execErr.write.get()}, hook.path.c_str(), argv.get(),
             envp.get());

  in.read.reset();
  out.write.reset();
  err.write.reset();
  execErr.write.reset();

  UniqueFd pidfd(sys::pidfdOpen(pid, 0));
  if (!pidfd) {
    Error e = Error::fromErrno(name + ": pidfd_open");
    killAndReap(pid);
    return e;
  }
  Capture stdoutCap{std::move(out.read)}, stderrCap{std::move(err.read)};
  for (int fd : {in.write.get(), stdoutCap.fd.get(), stderrCap.fd.get()}) {
    if (auto st = setNonBlocking(fd); !st) {
      killAndReap(pid);
      return std::move(st).error().context(name);
    }
  }

  auto outcome = supervise(pidfd.get(), in.write, stateJson, stdoutCap, stderrCap, hook.timeout);
  if (!outcome || outcome->timedOut) {
    killAndReap(pid);
    if (!outcome) return std::move(outcome).error().context(name);
    return Error(name + " timed out after " + std::to_string(*hook.timeout) + " s");
  }

  int status = 0;
  if (reap(pid, &status) < 0) return Error::fromErrno(name + ": waitpid");

  int execErrno = 0;
  if (::read(execErr.read.get(), &execErrno, sizeof execErrno) == sizeof execErrno)
    return Error(name + ": execve", execErrno);

  std::string output = describe(stderrCap);
  if (output.empty()) output = describe(stdoutCap);
  const std::string suffix = output.empty() ? "" : ": " + output;
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 0) return {};
    return Error(name + " exited with status " + std::to_string(WEXITSTATUS(status)) + suffix);
  }
  if (WIFSIGNALED(status)) {
    const char* sig = sigabbrev_np(WTERMSIG(status));
    return Error(name + " killed by signal " + std::to_string(WTERMSIG(status)) +
                 (sig ? std::string(" (SIG") + sig + ")" : "") + suffix);
  }
  return Error(name + " ended with wait status " + std::to_string(status) + suffix);
}

Status runHooks(const std::vector<spec::Hook>& hooks, const std::string& stateJson, std::string_view kind) {
  for (size_t i = 0; i < hooks.size(); ++i)
    TRY_CTX(runHook(hooks[i], stateJson), std::string(kind) + " hook[" + std::to_string(i) + "]");
  return {};
}

void runHooksWarnOnly(const std::vector<spec::Hook>& hooks, const std::string& stateJson, std::string_view kind) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    if (auto st = runHook(hooks[i], stateJson); !st)
      log::warn(std::move(st).error().context(std::string(kind) + " hook[" + std::to_string(i) + "]").message());
  }
}

bool anyBeforeStart(const spec::Spec& spec) {
  const auto& h = spec.hooks;
  return h && (!h->prestart.empty() || !h->createRuntime.empty() || !h->createContainer.empty() ||
               !h->startContainer.empty());
}

}  // namespace berth::hooks
