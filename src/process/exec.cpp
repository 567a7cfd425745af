// The exec child. Like the init, it runs in a cloned copy of berth-runtime:
// nothing may throw out of it, every exit is execve or _exit, and failures
// travel to the parent as an Error message.
#include "process/exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "cgroups/manager.hpp"
#include "common/scope_guard.hpp"
#include "common/syscalls.hpp"
#include "process/exec_prep.hpp"
#include "process/tty.hpp"
#include "security/identity.hpp"
#include "security/rlimits.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace berth::process {
namespace {

Status execSequence(ExecConfig& cfg, Channel& ch) {
  const spec::Process& proc = *cfg.process;
  // Before anything else, so all of it is accounted to the container.
  TRY_CTX(cgroups::joinThroughTasks(cfg.cgroupTasks), "exec");
  TRY_CTX(ch.expect(Msg::Start), "exec: wait for the runtime");
  const int join = cfg.joinFlags & ~cfg.joinedEarly;
  if (join && ::setns(cfg.initPidfd, join) != 0)
    return Error::fromErrno("join the container's namespaces (setns)");
  if (::fchdir(cfg.root.get()) != 0) return Error::fromErrno("enter the container's root: fchdir");
  if (::chroot(".") != 0) return Error::fromErrno("enter the container's root: chroot");
  cfg.root.reset();
  if (cfg.joinFlags & CLONE_NEWUSER) {
    // Root of the container's user namespace, as the init was.
    if (::setresgid(0, 0, 0) != 0) return Error::fromErrno("setresgid(0) in the container's user namespace");
    if (::setresuid(0, 0, 0) != 0) return Error::fromErrno("setresuid(0) in the container's user namespace");
  }
  if (::chdir(proc.cwd.c_str()) != 0) return Error::fromErrno("process.cwd: chdir " + proc.cwd);
  std::string exe = TRY(findExecutable(proc));
  TRY_CTX(security::applyRlimits(proc.rlimits), "process.rlimits");
  // Late, so a failure above leaves no pty with the receiver; still as root,
  // so /dev/ptmx opens whatever its mode.
  if (cfg.consoleSocket) TRY_CTX(setupTerminal(std::move(cfg.consoleSocket), proc.consoleSize, false), "console");

  // The container's seccomp filter, where the seccomp module says it goes
  // (seccomp.hpp); a notify listener fd goes to the parent, as for the init.
  using security::SeccompLoadPoint;
  auto seccompAt = [&](SeccompLoadPoint p) {
    return cfg.seccomp && security::seccompLoadPoint(*cfg.seccomp, proc.noNewPrivileges) == p;
  };
  if (seccompAt(SeccompLoadPoint::BeforeReady)) {
    UniqueFd listener = TRY(security::loadSeccomp(*cfg.seccomp));
    TRY(ch.sendFd(Msg::SeccompFd, listener.get()));
  }
  if (seccompAt(SeccompLoadPoint::BeforeCapabilities)) TRY(security::loadSeccomp(*cfg.seccomp));
  // The same privilege drop as the init's (capabilities.hpp has the order).
  TRY_CTX(security::prepareCapabilities(cfg.caps), "process.capabilities");
  TRY_CTX(security::switchUser(proc.user), "process.user");
  TRY_CTX(security::applyCapabilities(cfg.caps), "process.capabilities");
  if (proc.noNewPrivileges) TRY_CTX(security::setNoNewPrivileges(), "process.noNewPrivileges");

  std::vector<char*> argv, envp;
  for (const auto& a : proc.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : proc.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  closeUnwantedFds(cfg.extraFds, ch.fd());
  if (seccompAt(SeccompLoadPoint::BeforeExec)) TRY(security::loadSeccomp(*cfg.seccomp));
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(exe.c_str(), argv.data(), envp.data());
  return Error::fromErrno("exec " + exe);
}

[[noreturn]] void runExecChild(ExecConfig& cfg, Channel& ch) noexcept {
  // First of all: out of reach of the container's processes (see exec.hpp).
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::signal(sig, SIG_DFL);
  }
  auto st = execSequence(cfg, ch);
  if (!st) (void)ch.sendError(st.error());
  ::_exit(1);
}

}  // namespace

Result<int> namespacesToJoin(pid_t pid) {
  static const std::pair<const char*, int> kTypes[] = {
      {"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},       {"pid", CLONE_NEWPID},   {"net", CLONE_NEWNET},
      {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},      {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
  };
  int flags = 0;
  for (const auto& [name, flag] : kTypes) {
    struct stat theirs {}, ours {};
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
    if (::stat(path.c_str(), &theirs) != 0) {
      if (errno == ENOENT && std::string(name) == "time") continue;  // kernel without time namespaces
      return Error::fromErrno("stat " + path);
    }
    if (::stat((std::string("/proc/self/ns/") + name).c_str(), &ours) != 0) continue;
    if (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev) flags |= flag;
  }
  return flags;
}

namespace {

// Rootless: stage 1 joins the user and pid namespaces and forks the exec
// process (pid namespaces only apply to children), reports its host pid and
// exits; the process is then our grandchild, reparented to us (subreaper).
Result<Spawned> spawnExecInUserNs(ExecConfig& cfg, Channel& parent, Channel& child) {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return Error::fromErrno("become a child subreaper");
  sys::CloneArgs args;
  args.exit_signal = SIGCHLD;
  bool placed = false;  // the exec process inherits stage 1's cgroup
  pid_t stage1 = sys::clone3IntoCgroup(args, cfg.cgroupFd, &placed);
  if (stage1 < 0) return Error::fromErrno("clone the exec process");
  if (stage1 == 0) {
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (cfg.lockFd >= 0) ::close(cfg.lockFd);
    parent.close();
    if (::setns(cfg.initPidfd, CLONE_NEWUSER | CLONE_NEWPID) != 0) {
      (void)child.sendError(Error::fromErrno("join the container's user and pid namespaces"));
      ::_exit(1);
    }
    cfg.joinedEarly = CLONE_NEWUSER;
    pid_t pid = ::fork();
    if (pid < 0) {
      (void)child.sendError(Error::fromErrno("fork the exec process"));
      ::_exit(1);
    }
    if (pid == 0) runExecChild(cfg, child);
    (void)child.send(Msg::InitPid, std::to_string(pid));
    ::_exit(0);
  }
  child.close();
  auto reported = parent.expect(Msg::InitPid);
  ::waitpid(stage1, nullptr, 0);
  if (!reported) return std::move(reported).error();
  Spawned out;
  out.clonedIntoCgroup = placed;
  out.pid = static_cast<pid_t>(std::strtol(reported->payload.c_str(), nullptr, 10));
  out.intermediate = true;
  out.pidfd = UniqueFd(sys::pidfdOpen(out.pid));
  if (!out.pidfd) return Error::fromErrno("pidfd_open the exec process");
  return out;
}

}  // namespace

Result<Spawned> spawnExec(ExecConfig& cfg, Channel& parent, Channel& child) {
  if (cfg.joinPid && (cfg.joinFlags & CLONE_NEWUSER) && ::geteuid() != 0) return spawnExecInUserNs(cfg, parent, child);
  UniqueFd ownPidNs;
  if (cfg.joinPid) {
    ownPidNs = UniqueFd(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (!ownPidNs) return Error::fromErrno("open /proc/self/ns/pid");
    if (::setns(cfg.initPidfd, CLONE_NEWPID) != 0) return Error::fromErrno("enter the container's pid namespace");
  }
  // Only our children are affected; put it back so nothing else we fork
  // (hooks, helpers) is born inside the container.
  auto leavePidNs = [&] {
    if (ownPidNs) ::setns(ownPidNs.get(), CLONE_NEWPID);
    ownPidNs.reset();
  };
  ScopeGuard back(leavePidNs);

  sys::CloneArgs args;
  int pidfd = -1;
  args.exit_signal = SIGCHLD;
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  bool placed = false;
  pid_t pid = sys::clone3IntoCgroup(args, cfg.cgroupFd, &placed);
  if (pid < 0) return Error::fromErrno("clone the exec process");
  if (pid == 0) {
    // The flock is shared with the parent's open file description: kept
    // here, a child stuck in a frozen cgroup would block `resume` forever.
    if (cfg.lockFd >= 0) ::close(cfg.lockFd);
    parent.close();
    runExecChild(cfg, child);
  }
  leavePidNs();
  child.close();
  Spawned out;
  out.pid = pid;
  out.pidfd = UniqueFd(pidfd);
  out.clonedIntoCgroup = placed;
  return out;
}

}  // namespace berth::process
