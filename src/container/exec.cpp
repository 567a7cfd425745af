#include "container/exec.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "cgroups/manager.hpp"
#include "common/scope_guard.hpp"
#include "common/syscalls.hpp"
#include "process/exec.hpp"
#include "process/tty.hpp"
#include "spec/parse.hpp"

namespace berth::container {
namespace {

Result<uint32_t> parseId(const std::string& s, const std::string& what) {
  if (s.empty() || s.size() > 10 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Error("--user \"" + what + "\": expected uid[:gid] as numbers");
  unsigned long v = std::strtoul(s.c_str(), nullptr, 10);
  if (v > 0xFFFFFFFEUL) return Error("--user \"" + what + "\": id out of range");
  return static_cast<uint32_t>(v);
}

void setEnv(std::vector<std::string>& env, const std::string& kv) {
  std::string key = kv.substr(0, kv.find('='));
  for (auto& e : env)
    if (e.compare(0, key.size() + 1, key + "=") == 0) {
      e = kv;
      return;
    }
  env.push_back(kv);
}

void addCap(std::optional<std::vector<std::string>>& set, const std::string& cap) {
  if (!set) set.emplace();
  if (std::find(set->begin(), set->end(), cap) == set->end()) set->push_back(cap);
}

// The container's namespaces, root and cgroup, opened while we hold its lock.
struct Target {
  State state;
  UniqueFd pidfd;
  int nsFlags = 0;
  UniqueFd root;
  std::unique_ptr<cgroups::Manager> cgroup;
};

Result<Target> openTarget(const Store& store, const ExecOptions& opts) {
  Target t;
  t.state = TRY(store.load(opts.id));
  ContainerStatus cur = currentStatus(t.state, store.dir(opts.id));
  if (cur == ContainerStatus::Stopped) return Error("cannot exec in a stopped container");
  if (cur == ContainerStatus::Creating) return Error("cannot exec in a container that is still being created");
  if (cur == ContainerStatus::Paused && !opts.ignorePaused)
    return Error("cannot exec in a paused container (use --ignore-paused to override)");
  t.pidfd = UniqueFd(sys::pidfdOpen(t.state.pid));
  // Checked after opening: the pidfd then names the init, not a recycled pid.
  if (!t.pidfd || !initAlive(t.state)) return Error("cannot exec in a stopped container");
  t.nsFlags = TRY(process::namespacesToJoin(t.state.pid));
  std::string root = "/proc/" + std::to_string(t.state.pid) + "/root";
  t.root = UniqueFd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!t.root) return Error::fromErrno("open " + root);
  if (!t.state.cgroup.empty()) {
    t.cgroup = TRY_CTX(cgroups::Manager::load(t.state.cgroup), "cgroup");
    if (!opts.cgroup.empty()) {
      if (opts.cgroup.find(':') != std::string::npos)
        return Error("--cgroup " + opts.cgroup + ": only a path (for every controller) is supported");
      std::string sub = t.cgroup->path() + "/" + opts.cgroup;
      auto checked = TRY_CTX(cgroups::containerCgroupPath(sub, opts.id), "--cgroup " + opts.cgroup);
      t.cgroup = TRY_CTX(cgroups::Manager::make(t.cgroup->layout(), cgroups::kDefaultRoot, checked, ::geteuid() != 0),
                         "--cgroup " + opts.cgroup);
    }
  } else if (!opts.cgroup.empty()) {
    return Error("--cgroup " + opts.cgroup + ": the container has no cgroup");
  }
  return t;
}

Status checkPreservedFds(int n) {
  for (int fd = 3; fd < 3 + n; ++fd)
    if (::fcntl(fd, F_GETFD) < 0) return Error("--preserve-fds " + std::to_string(n) + ": fd " + std::to_string(fd) + " is not open");
  return {};
}

}  // namespace

Result<spec::Process> execProcess(const spec::Process* configProcess, const ExecOptions& opts) {
  if (!opts.processFile.empty()) {
    auto text = sys::readFile(opts.processFile);
    if (!text) return std::move(text).error().context("--process " + opts.processFile);
    auto p = spec::parseProcess(*text);
    if (!p) return std::move(p).error().context("--process " + opts.processFile);
    if (p->args.empty()) return Error("--process " + opts.processFile + ": args: at least one entry is required");
    if (p->cwd.empty() || p->cwd[0] != '/') return Error("--process " + opts.processFile + ": cwd: must be an absolute path");
    return std::move(*p);
  }
  if (!configProcess) return Error("config.json: process: the container has no process to start from");
  spec::Process p = *configProcess;
  if (opts.args.empty()) return Error("exec: no command given (ARGS or --process)");
  p.args = opts.args;
  p.terminal = opts.tty;
  if (!opts.cwd.empty()) {
    if (opts.cwd[0] != '/') return Error("--cwd " + opts.cwd + ": must be an absolute path");
    p.cwd = opts.cwd;
  }
  for (const auto& kv : opts.env) {
    if (kv.empty() || kv.find('=') == std::string::npos || kv[0] == '=')
      return Error("--env \"" + kv + "\": expected KEY=VALUE");
    setEnv(p.env, kv);
  }
  if (!opts.user.empty()) {
    auto colon = opts.user.find(':');
    p.user.uid = TRY(parseId(opts.user.substr(0, colon), opts.user));
    if (colon != std::string::npos) p.user.gid = TRY(parseId(opts.user.substr(colon + 1), opts.user));
  }
  p.user.additionalGids.insert(p.user.additionalGids.end(), opts.additionalGids.begin(), opts.additionalGids.end());
  if (!opts.caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    auto& c = *p.capabilities;
    bool ambient = c.ambient && !c.ambient->empty();
    for (const auto& cap : opts.caps) {
      addCap(c.bounding, cap);
      addCap(c.effective, cap);
      addCap(c.permitted, cap);
      // Ambient needs the capability inheritable too; only where the config
      // already uses ambient capabilities, as runc does.
      if (ambient) {
        addCap(c.inheritable, cap);
        addCap(c.ambient, cap);
      }
    }
  }
  if (opts.noNewPrivs) p.noNewPrivileges = true;
  if (!opts.apparmor.empty()) p.apparmorProfile = opts.apparmor;
  if (!opts.processLabel.empty()) p.selinuxLabel = opts.processLabel;
  return p;
}

Result<int> exec(const Store& store, const ExecOptions& opts) {
  auto body = [&]() -> Result<int> {
    TRY(validateId(opts.id));
    auto lock = TRY(store.lock(opts.id));
    Target target = TRY(openTarget(store, opts));
    auto config = spec::loadConfig(target.state.bundle);
    if (!config) return std::move(config).error().context("bundle " + target.state.bundle);
    const spec::Process* base = config->process ? &*config->process : nullptr;
    spec::Process proc = TRY(execProcess(base, opts));
    // No LSM is available on this build's hosts: refuse rather than run the
    // process unconfined when a profile was asked for.
    if (proc.apparmorProfile && !proc.apparmorProfile->empty() && ::access("/sys/kernel/security/apparmor", F_OK) != 0)
      return Error("--apparmor " + *proc.apparmorProfile + ": AppArmor is not enabled on this host");
    if (proc.selinuxLabel && !proc.selinuxLabel->empty() && ::access("/sys/fs/selinux/enforce", F_OK) != 0)
      return Error("--process-label " + *proc.selinuxLabel + ": SELinux is not enabled on this host");
    TRY(checkPreservedFds(opts.preserveFds));

    process::ExecConfig cfg;
    cfg.process = &proc;
    cfg.initPidfd = target.pidfd.get();
    cfg.joinPid = (target.nsFlags & CLONE_NEWPID) != 0;
    cfg.joinFlags = target.nsFlags & ~CLONE_NEWPID;
    cfg.root = std::move(target.root);
    cfg.caps = TRY_CTX(security::planCapabilities(proc.capabilities), "exec");
    cfg.extraFds = opts.preserveFds;
    if (config->linux && config->linux->seccomp)
      cfg.seccomp = TRY_CTX(security::buildSeccomp(*config->linux->seccomp), "config.json");
    UniqueFd consoleReceiver;
    if (proc.terminal) {
      if (!opts.consoleSocket.empty()) {
        cfg.consoleSocket = TRY(process::connectConsoleSocket(opts.consoleSocket));
      } else if (opts.detach) {
        return Error("cannot allocate a terminal for a detached exec without --console-socket");
      } else {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return Error::fromErrno("socketpair");
        consoleReceiver = UniqueFd(sv[0]);
        cfg.consoleSocket = UniqueFd(sv[1]);
      }
    } else if (!opts.consoleSocket.empty()) {
      return Error("--console-socket: the process has no terminal (use --tty)");
    }
    if (target.cgroup) {  // the child joins by itself (Manager::cloneIntoFd has why)
      cfg.cgroupFd = target.cgroup->cloneIntoFd();
      cfg.cgroupTasks = TRY_CTX(target.cgroup->openTasksFiles(), "cgroup");
    }
    cfg.lockFd = lock.get();

    // Blocked before clone so none is lost before the forwarding loop; the
    // child unblocks them right before execve.
    sigset_t all, old;
    sigfillset(&all);
    for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE}) sigdelset(&all, s);
    sigprocmask(SIG_BLOCK, &all, &old);
    ScopeGuard restoreMask([&] { sigprocmask(SIG_SETMASK, &old, nullptr); });

    auto [parentEnd, childEnd] = TRY(process::Channel::pair());
    process::Spawned child = TRY(process::spawnExec(cfg, parentEnd, childEnd));
    cfg.consoleSocket.reset();
    cfg.cgroupTasks.clear();
    ScopeGuard reap([&] {
      sys::pidfdSendSignal(child.pidfd.get(), SIGKILL);
      ::waitpid(child.pid, nullptr, 0);
    });
    // A kernel without CLONE_INTO_CGROUP: the slow way.
    if (cfg.cgroupFd >= 0 && !child.clonedIntoCgroup) TRY_CTX(target.cgroup->apply(child.pid), "cgroup");
    // The pidfd, root and cgroup are ours now; a frozen container (with
    // --ignore-paused) must stay resumable while our child waits in it.
    lock.reset();
    TRY(parentEnd.send(process::Msg::Start));
    if (cfg.seccomp && cfg.seccomp->notify) {
      UniqueFd listener = TRY(parentEnd.expectFd(process::Msg::SeccompFd));
      const auto& sc = *config->linux->seccomp;
      std::string procState = security::containerProcessState(
          config->ociVersion, child.pid, sc.listenerMetadata,
          stateJson(target.state, currentStatus(target.state, store.dir(opts.id)), /*compact=*/true));
      TRY_CTX(security::sendToSeccompListener(sc.listenerPath.value_or(""), listener.get(), procState),
              "linux.seccomp.listenerPath");
    }
    auto m = parentEnd.receive();
    if (m && m->type == process::Msg::Error) return Error(m->payload);
    if (m) return Error(std::string("protocol error: unexpected ") + process::msgName(m->type));
    UniqueFd master;
    if (consoleReceiver) master = TRY_CTX(process::receiveFd(consoleReceiver.get()), "console");
    if (!opts.pidFile.empty()) TRY_CTX(sys::writeFileAtomic(opts.pidFile, std::to_string(child.pid), 0644), "--pid-file");
    reap.dismiss();
    if (opts.detach) return 0;
    return process::relayTerminalUntilExit(child.pid, child.pidfd.get(), std::move(master), all);
  };
  auto r = body();
  if (!r) return std::move(r).error().context("exec");
  return r;
}

}  // namespace berth::container
