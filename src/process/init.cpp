// The container init, child side. Runs in a cloned copy of berth-runtime:
// no exceptions may escape (they would unwind the parent's stack copy), and
// every exit is execve or _exit. The child never prints: failures go to the
// parent as an Error message.
#include "process/init.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "cgroups/manager.hpp"
#include "common/log.hpp"
#include "common/syscalls.hpp"
#include "fs/rootfs.hpp"
#include "process/exec_prep.hpp"
#include "hooks/hooks.hpp"
#include "process/tty.hpp"
#include "security/capabilities.hpp"
#include "security/exe_guard.hpp"
#include "security/identity.hpp"
#include "security/process_attrs.hpp"
#include "security/rlimits.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace berth::process {
namespace {

Status setHostAndDomain(const spec::Spec& spec) {
  if (spec.hostname && ::sethostname(spec.hostname->data(), spec.hostname->size()) != 0)
    return Error::fromErrno("hostname: sethostname");
  if (spec.domainname && ::setdomainname(spec.domainname->data(), spec.domainname->size()) != 0)
    return Error::fromErrno("domainname: setdomainname");
  return {};
}

// Written through the host's /proc before pivot_root: the container cannot
// have over-mounted it yet, and /proc/sys reflects the writer's namespaces.
Status applySysctls(const spec::Spec& spec) {
  if (!spec.linux) return {};
  for (const auto& [key, value] : spec.linux->sysctl) {
    std::string rel = key;
    for (char& c : rel)
      if (c == '.') c = '/';
    if (auto st = sys::writeFile("/proc/sys/" + rel, value); !st)
      return std::move(st).error().context("linux.sysctl[\"" + key + "\"]");
  }
  return {};
}

// Blocks until `start` opens the fifo for reading, then tells it we are
// going (`run` has no start to wait for). The fifo is opened through the
// state dir's fd, taken before pivot_root: the path is not reachable from
// inside the container.
Status waitForStart(InitConfig& cfg) {
  if (cfg.startAtOnce) return {};
  UniqueFd fifo(::openat(cfg.stateDir.get(), "exec.fifo", O_WRONLY | O_CLOEXEC));
  if (!fifo) return Error::fromErrno("open exec.fifo");
  cfg.stateDir.reset();
  const char go = '0';
  TRY_CTX(sys::writeAll(fifo.get(), &go, 1), "exec.fifo");
  return {};
}

Status initSequence(InitConfig& cfg, Channel& ch) {
  const spec::Spec& spec = *cfg.spec;
  const spec::Process& proc = *spec.process;

  if (cfg.ns.newUser) {
    // Root of the new user namespace, once the parent has mapped it.
    if (::setresgid(0, 0, 0) != 0) return Error::fromErrno("setresgid(0) in user namespace");
    if (::setresuid(0, 0, 0) != 0) return Error::fromErrno("setresuid(0) in user namespace");
  }
  // The init joins its v1 cgroups itself, with `tasks` fds the parent
  // sends with CgroupJoined (cgroups::Manager::cloneIntoFd says why not the
  // parent); cgroup2 placed it at clone. The parent makes the v1 cgroups and
  // writes the limits while the init builds its rootfs, so the init waits
  // for CgroupJoined only where it matters: before a cgroup mount (it shows
  // our own cgroup), and before its cgroup namespace, which must be rooted at
  // the container's cgroup, not the parent's. prepareRootfs calls it once.
  auto joinCgroup = [&]() -> Status {
    auto tasks = TRY(ch.expectFds(Msg::CgroupJoined));
    TRY(cgroups::joinThroughTasks(tasks));
    if (cfg.ns.newCgroup && ::unshare(CLONE_NEWCGROUP) != 0) return Error::fromErrno("unshare cgroup namespace");
    return {};
  };
  if (cfg.ns.newTime) {
    static const std::map<std::string, spec::TimeOffset> none;
    TRY(namespaces::enterNewTimeNamespace(spec.linux ? spec.linux->timeOffsets : none));
  }
  // A new session keyring, so the container cannot see the host's keys.
  if (!cfg.noNewKeyring) {
    std::string name = "_ses." + cfg.id;
    if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) < 0 && errno != ENOSYS && errno != EPERM)
      return Error::fromErrno("join session keyring");
  }

  // Until execve replaces it, this process *is* the berth-runtime binary
  // inside the container's namespaces. Non-dumpable, its /proc/<pid>/exe,
  // fds and memory are out of reach of the container's processes (ptrace
  // access checks), which closes the CVE-2019-5736 route of reopening the
  // runtime binary for writing. execve of the user program resets it.
  // (Set only now: a non-dumpable task's /proc/self files belong to the
  // host's root, which the time namespace setup above could not write.)
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Taken while /proc is still the host's: the container's could be fake.
  const security::FileIdentity runtimeExe = TRY(security::runtimeBinaryIdentity());

  // The initial affinity covers the init's own setup work (runtime-spec).
  if (proc.execCPUAffinity)
    TRY(security::applyCpuAffinity(proc.execCPUAffinity->initial, "process.execCPUAffinity.initial"));
  fs::RootfsOptions ro{cfg.rootfs, cfg.noPivot, cfg.rootless, joinCgroup, std::move(cfg.cgroupHierarchies)};
  // The bounding set is final (planCapabilities drops all without a list):
  // without CAP_SYS_ADMIN in it, no process of the container can remount.
  ro.mayShareHostCgroupTmpfs = (cfg.caps.bounding & (uint64_t{1} << CAP_SYS_ADMIN)) == 0;
  TRY_CTX(fs::prepareRootfs(spec, ro), "rootfs");
  TRY(setHostAndDomain(spec));
  TRY(applySysctls(spec));

  // The state JSON the hooks get; only they need it, and only they make us
  // wait for the runtime here (two context switches saved otherwise).
  std::string creatingState;
  if (hooks::anyBeforeStart(spec)) {
    TRY(ch.send(Msg::RunCreateHooks));
    creatingState = TRY(ch.expect(Msg::HooksDone)).payload;
    TRY(hooks::runHooks(spec.hooks->createContainer, creatingState, "createContainer"));
  }

  TRY_CTX(fs::enterRootfs(ro), "rootfs");
  // The pty comes from the container's own devpts, so only after pivot_root;
  // before finishRootfs, which may make the root (and /dev) read-only.
  if (cfg.consoleSocket) TRY_CTX(setupTerminal(std::move(cfg.consoleSocket), proc.consoleSize, true), "console");
  TRY_CTX(fs::finishRootfs(spec), "rootfs");
  if (::chdir(proc.cwd.c_str()) != 0) return Error::fromErrno("process.cwd: chdir " + proc.cwd);
  std::string exe = TRY(findExecutable(proc));
  TRY(security::refuseRuntimeBinary(exe, runtimeExe));
  TRY_CTX(security::applyRlimits(proc.rlimits), "process.rlimits");
  // Set on ourselves, inherited across execve; still privileged here
  // (real-time policies need CAP_SYS_NICE), and failures still fail create.
  TRY(security::applyPersonality(spec.linux ? spec.linux->personality : std::nullopt));
  TRY(security::applyMemoryPolicy(spec.linux ? spec.linux->memoryPolicy : std::nullopt));
  TRY(security::applyScheduler(proc.scheduler));
  TRY(security::applyIoPriority(proc.ioPriority));

  // Where the filter goes in is the seccomp module's call (seccomp.hpp).
  using security::SeccompLoadPoint;
  auto seccompAt = [&](SeccompLoadPoint p) {
    return cfg.seccomp && security::seccompLoadPoint(*cfg.seccomp, proc.noNewPrivileges) == p;
  };
  if (seccompAt(SeccompLoadPoint::BeforeReady)) {
    UniqueFd listener = TRY(security::loadSeccomp(*cfg.seccomp));
    TRY(ch.sendFd(Msg::SeccompFd, listener.get()));
  }

  TRY(ch.send(Msg::Ready));
  TRY(waitForStart(cfg));
  if (spec.hooks && !spec.hooks->startContainer.empty()) {
    // The parent's state JSON is compact and ours: patch the status rather
    // than ask the parent again (in `create` it is gone by now).
    std::string created = creatingState;
    const std::string from = "\"status\":\"creating\"";
    if (auto at = created.find(from); at != std::string::npos) created.replace(at, from.size(), "\"status\":\"created\"");
    TRY(hooks::runHooks(spec.hooks->startContainer, created, "startContainer"));
  }

  // Privilege drop, in the order capabilities(7) requires: bounding set
  // while we still have CAP_SETPCAP, keep caps across the uid change, then
  // the final sets, then no_new_privs (which only restricts future execs).
  if (seccompAt(SeccompLoadPoint::BeforeCapabilities)) TRY(security::loadSeccomp(*cfg.seccomp));
  TRY_CTX(security::prepareCapabilities(cfg.caps), "process.capabilities");
  TRY_CTX(security::switchUser(proc.user), "process.user");
  TRY_CTX(security::applyCapabilities(cfg.caps), "process.capabilities");
  if (proc.noNewPrivileges) TRY_CTX(security::setNoNewPrivileges(), "process.noNewPrivileges");

  std::vector<std::string> envStore = proc.env;
  envStore.insert(envStore.end(), cfg.extraEnv.begin(), cfg.extraEnv.end());
  std::vector<char*> argv, envp;
  for (const auto& a : proc.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : envStore) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  closeUnwantedFds(cfg.extraFds, ch.fd());
  if (proc.execCPUAffinity)
    TRY(security::applyCpuAffinity(proc.execCPUAffinity->final, "process.execCPUAffinity.final"));
  if (seccompAt(SeccompLoadPoint::BeforeExec)) TRY(security::loadSeccomp(*cfg.seccomp));
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  ::execve(exe.c_str(), argv.data(), envp.data());
  return Error::fromErrno("exec " + exe);
}

[[noreturn]] void runInit(InitConfig& cfg, Channel& ch) noexcept {
  // Default dispositions: the parent may have handlers we must not run here.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::signal(sig, SIG_DFL);
  }
  auto st = initSequence(cfg, ch);
  if (!st) (void)ch.sendError(st.error());
  ::_exit(1);
}

// Stage 1 of the two-stage path: join, unshare, fork the init, report it.
[[noreturn]] void runStageOne(InitConfig& cfg, Channel& ch) noexcept {
  int gateFd = -1;
  auto body = [&]() -> Result<pid_t> {
    TRY(namespaces::enterJoins(cfg.ns, cfg.nsFds));
    cfg.nsFds.clear();
    if (cfg.ns.newUser) {
      if (::unshare(CLONE_NEWUSER) != 0) return Error::fromErrno("unshare user namespace");
      TRY(ch.send(Msg::NeedIdMaps, std::to_string(::getpid())));
      TRY(ch.expect(Msg::IdMapsWritten));
    }
    int rest = cfg.ns.newFlags & ~(CLONE_NEWUSER | CLONE_NEWCGROUP);  // cgroup ns: in the init
    if (rest && ::unshare(rest) != 0) return Error::fromErrno("unshare namespaces");
    // The init must not speak on the shared channel before we have reported
    // its pid: it waits for this pipe to close.
    int gate[2];
    if (::pipe2(gate, O_CLOEXEC) != 0) return Error::fromErrno("pipe");
    pid_t pid = ::fork();
    if (pid < 0) return Error::fromErrno("fork init");
    if (pid == 0) {
      ::close(gate[1]);
      char b;
      while (::read(gate[0], &b, 1) < 0 && errno == EINTR) {
      }
      ::close(gate[0]);
      // The init shares stage 1's user ns, already mapped.
      runInit(cfg, ch);
    }
    ::close(gate[0]);
    gateFd = gate[1];
    return pid;
  };
  auto pid = body();
  if (!pid) {
    (void)ch.sendError(pid.error());
    ::_exit(1);
  }
  (void)ch.send(Msg::InitPid, std::to_string(*pid));
  ::close(gateFd);
  ::_exit(0);
}

}  // namespace

Result<Spawned> spawnInit(InitConfig& cfg, Channel& parent, Channel& child) {
  Spawned out;
  sys::CloneArgs args;
  int pidfd = -1;
  args.exit_signal = SIGCHLD;
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  bool single = cfg.ns.singleStage();
  if (single) args.flags |= static_cast<uint64_t>(cfg.ns.newFlags & ~CLONE_NEWCGROUP);  // see initSequence
  // Not placed (an old kernel): the caller falls back to cgroup.procs.
  pid_t pid = sys::clone3IntoCgroup(args, cfg.cgroupFd, &out.clonedIntoCgroup);
  if (pid < 0) return Error::fromErrno("clone container init");
  if (pid == 0) {
    // The flock is shared with the parent's open file description: holding
    // it here would keep `start` waiting for the lock forever.
    if (cfg.lockFd >= 0) ::close(cfg.lockFd);
    parent.close();
    if (single) {
      if (cfg.ns.newUser) {
        auto m = child.expect(Msg::IdMapsWritten);
        if (!m) {
          (void)child.sendError(m.error());
          ::_exit(1);
        }
      }
      runInit(cfg, child);
    }
    runStageOne(cfg, child);
  }
  child.close();
  UniqueFd firstPidfd(pidfd);
  const std::vector<spec::IdMapping> none;
  const auto& uidMaps = cfg.spec->linux ? cfg.spec->linux->uidMappings : none;
  const auto& gidMaps = cfg.spec->linux ? cfg.spec->linux->gidMappings : none;

  if (single) {
    out.pid = pid;
    out.pidfd = std::move(firstPidfd);
    if (cfg.ns.newUser) {
      TRY(namespaces::writeIdMaps(pid, uidMaps, gidMaps));
      TRY(parent.send(Msg::IdMapsWritten));
    }
    return out;
  }
  // Two-stage: serve stage 1 until it reports the init's pid, then reap it.
  for (;;) {
    auto m = parent.receive();
    if (!m) {
      ::waitpid(pid, nullptr, 0);
      return Error("container setup exited before reporting its init");
    }
    if (m->type == Msg::Error) {
      ::waitpid(pid, nullptr, 0);
      return Error(m->payload);
    }
    if (m->type == Msg::NeedIdMaps) {
      TRY(namespaces::writeIdMaps(pid, uidMaps, gidMaps));
      TRY(parent.send(Msg::IdMapsWritten));
      continue;
    }
    if (m->type == Msg::InitPid) {
      out.pid = static_cast<pid_t>(std::strtol(m->payload.c_str(), nullptr, 10));
      break;
    }
    ::waitpid(pid, nullptr, 0);
    return Error(std::string("protocol error: unexpected ") + msgName(m->type) + " from stage 1");
  }
  ::waitpid(pid, nullptr, 0);
  out.intermediate = true;
  out.pidfd = UniqueFd(sys::pidfdOpen(out.pid));
  if (!out.pidfd) return Error::fromErrno("pidfd_open container init");
  return out;
}

}  // namespace berth::process
