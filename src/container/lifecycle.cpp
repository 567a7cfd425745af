#include "container/lifecycle.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>

#include "cgroups/manager.hpp"
#include "cgroups/resctrl.hpp"
#include "common/log.hpp"
#include "common/scope_guard.hpp"
#include "common/syscalls.hpp"
#include "hooks/hooks.hpp"
#include "namespaces/netdev.hpp"
#include "process/init.hpp"
#include "process/tty.hpp"
#include "security/identity.hpp"
#include "spec/parse.hpp"
#include "spec/validate.hpp"

namespace berth::container {
namespace {

std::string nowRfc3339() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec);
  return buf;
}

Result<std::string> absolutePath(const std::string& p) {
  char* r = ::realpath(p.c_str(), nullptr);
  if (!r) return Error::fromErrno(p);
  std::string out(r);
  std::free(r);
  return out;
}

// Waits for a process we hold a pidfd for to exit (it need not be our child).
bool waitExit(int pidfd, int timeoutMs) {
  pollfd p{pidfd, POLLIN, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeoutMs);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

// Opens a pidfd for the stored init and checks, after opening, that the pid
// still belongs to it: checking first would race with pid reuse.
Result<UniqueFd> openInit(const State& s) {
  if (!initAlive(s)) return Error("container \"" + s.id + "\" is not running", ESRCH);
  UniqueFd fd(sys::pidfdOpen(s.pid));
  if (!fd) return Error::fromErrno("pidfd_open " + std::to_string(s.pid));
  if (!initAlive(s)) return Error("container \"" + s.id + "\" is not running", ESRCH);
  return fd;
}

Status writePidFile(const std::string& path, pid_t pid) {
  if (path.empty()) return {};
  return sys::writeFileAtomic(path, std::to_string(pid), 0644);
}

// Everything create needs to finish the job, and run to go on with it.
struct Creation {
  spec::Spec spec;
  State state;
  UniqueFd lock;
  process::Channel channel;
  process::Spawned init;
  std::unique_ptr<cgroups::Manager> cgroup;
  UniqueFd consoleMaster;  // terminal without --console-socket: run relays it
};

void destroyHalfMade(const Store& store, Creation& c) {
  if (c.init.pidfd) {
    sys::pidfdSendSignal(c.init.pidfd.get(), SIGKILL);
    waitExit(c.init.pidfd.get(), 5000);
    ::waitpid(c.init.pid, nullptr, WNOHANG);
  }
  if (c.cgroup) (void)c.cgroup->destroy();
  (void)store.remove(c.state.id);
}

Result<spec::Spec> loadBundle(const std::string& bundle, std::string& rootfs) {
  auto spec = TRY(spec::loadConfig(bundle));
  TRY(spec::validate(spec));
  if (!spec.process) return Error("config.json: process: required to create a container");
  if (!spec.root) return Error("config.json: root: required on Linux");
  auto plan = TRY_CTX(namespaces::makePlan(spec.linux), "config.json");
  if (!plan.has(CLONE_NEWNS))
    return Error("config.json: linux.namespaces: a mount namespace is required (berth never mounts on the host)");
  std::string root = spec.root->path;
  if (root.empty() || root[0] != '/') root = bundle + "/" + root;
  auto abs = absolutePath(root);
  if (!abs) return Error("config.json: root.path: rootfs " + root + " does not exist", abs.error().code());
  struct stat st {};
  if (::stat(abs->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Error("config.json: root.path: " + *abs + " is not a directory");
  rootfs = *abs;
  return spec;
}

// LISTEN_FDS from socket activation is passed on like runc: the fds follow
// 0-2, and the container sees LISTEN_PID=1.
int listenFds(std::vector<std::string>& env) {
  const char* v = std::getenv("LISTEN_FDS");
  if (!v) return 0;
  int n = std::atoi(v);
  if (n <= 0) return 0;
  env.push_back("LISTEN_FDS=" + std::to_string(n));
  env.push_back("LISTEN_PID=1");
  return n;
}

// Engines (Podman, Docker) send "deny all" and leave it to the runtime to
// allow the devices every container gets, as runc and crun do: the default
// nodes, /dev/pts, ptmx, tun, mknod of any node, and the config's own
// linux.devices. Appended after the config's rules, so a config can still
// deny one of them only by not denying all (rules are applied in order).
spec::Resources withDefaultDeviceRules(const spec::Resources& r, const spec::Spec& spec) {
  if (r.devices.empty()) return r;
  spec::Resources out = r;
  auto allow = [&](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor, const char* access) {
    spec::DeviceCgroup d;
    d.allow = true;
    d.type = type;
    d.major = major;
    d.minor = minor;
    d.access = access;
    out.devices.push_back(d);
  };
  allow("c", std::nullopt, std::nullopt, "m");
  allow("b", std::nullopt, std::nullopt, "m");
  for (auto [major, minor] : {std::pair{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}, {10, 200}})
    allow("c", major, minor, "rwm");
  allow("c", 136, std::nullopt, "rwm");  // /dev/pts/*
  if (spec.linux) {
    for (const auto& d : spec.linux->devices) {
      if (d.type == "p") continue;
      allow(d.type == "u" ? "c" : d.type.c_str(), d.major, d.minor, "rwm");
    }
  }
  return out;
}

std::string hookState(const State& s, ContainerStatus st) { return stateJson(s, st, /*compact=*/true); }

// attachTerminal: a foreground run, which keeps the pty master itself when
// the config asks for a terminal and no --console-socket is given.
Result<std::unique_ptr<Creation>> createContainer(Store& store, const CreateOptions& opts, bool startAtOnce,
                                                  bool attachTerminal = false) {
  TRY(validateId(opts.id));
  auto c = std::make_unique<Creation>();
  auto bundle = absolutePath(opts.bundle);
  if (!bundle) return Error("bundle " + opts.bundle + " does not exist", bundle.error().code());
  std::string rootfs;
  c->spec = TRY(loadBundle(*bundle, rootfs));
  TRY(cgroups::checkIntelRdt(c->spec));
  UniqueFd consoleReceiver;
  if (c->spec.process->terminal && opts.consoleSocket.empty() && !attachTerminal)
    return Error("config.json: process.terminal: a terminal needs --console-socket (or a foreground run)");

  process::InitConfig cfg;
  cfg.spec = &c->spec;
  cfg.id = opts.id;
  cfg.bundle = *bundle;
  cfg.rootfs = rootfs;
  cfg.ns = TRY(namespaces::makePlan(c->spec.linux));
  cfg.caps = TRY_CTX(security::planCapabilities(c->spec.process->capabilities), "config.json");
  if (c->spec.linux && c->spec.linux->seccomp)
    cfg.seccomp = TRY_CTX(security::buildSeccomp(*c->spec.linux->seccomp), "config.json");
  cfg.noPivot = opts.noPivot;
  cfg.noNewKeyring = opts.noNewKeyring;
  cfg.extraFds = opts.preserveFds + listenFds(cfg.extraEnv);
  cfg.startAtOnce = startAtOnce;
  cfg.rootless = ::geteuid() != 0;
  if (c->spec.process->terminal) {
    if (!opts.consoleSocket.empty()) {
      cfg.consoleSocket = TRY(process::connectConsoleSocket(opts.consoleSocket));
    } else {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return Error::fromErrno("socketpair");
      consoleReceiver = UniqueFd(sv[0]);
      cfg.consoleSocket = UniqueFd(sv[1]);
    }
  }
  cfg.nsFds = TRY(namespaces::openJoins(cfg.ns));

  c->lock = TRY(store.createDir(opts.id));
  State& st = c->state;
  st.id = opts.id;
  st.ociVersion = c->spec.ociVersion;
  st.bundle = *bundle;
  st.rootfs = rootfs;
  st.created = nowRfc3339();
  st.owner = std::to_string(::geteuid());
  st.annotations = c->spec.annotations;
  st.ownPidNamespace = cfg.ns.newPid;
  st.poststartHooks = c->spec.hooks && !c->spec.hooks->poststart.empty();
  st.poststopHooks = c->spec.hooks && !c->spec.hooks->poststop.empty();
  ScopeGuard rollback([&] { destroyHalfMade(store, *c); });

  std::string dir = store.dir(opts.id);
  if (!startAtOnce && ::mkfifo((dir + "/exec.fifo").c_str(), 0600) != 0)
    return Error::fromErrno("mkfifo " + dir + "/exec.fifo");
  cfg.lockFd = c->lock.get();
  if (!startAtOnce) {  // only the exec.fifo wait needs it
    cfg.stateDir = UniqueFd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cfg.stateDir) return Error::fromErrno("open " + dir);
  }

  const std::optional<spec::Resources> noResources;
  const auto& resources = c->spec.linux ? c->spec.linux->resources : noResources;
  c->cgroup = TRY_CTX(cgroups::Manager::forContainer(c->spec.linux ? c->spec.linux->cgroupsPath : std::nullopt,
                                                      opts.id, ::geteuid() != 0),
                      "cgroup");
  // Only what clone3 needs now; the v1 hierarchies once the init runs.
  TRY_CTX(c->cgroup->createForClone(), "cgroup");
  cfg.cgroupFd = c->cgroup->cloneIntoFd();
  const bool mountsCgroups = std::any_of(c->spec.mounts.begin(), c->spec.mounts.end(),
                                         [](const spec::Mount& m) { return m.type && *m.type == "cgroup"; });
  if (mountsCgroups) cfg.cgroupHierarchies = c->cgroup->containerView();

  // Relative bind-mount sources are relative to the bundle (config.md).
  if (::chdir(bundle->c_str()) != 0) return Error::fromErrno("chdir " + *bundle);
  auto [parentEnd, childEnd] = TRY(process::Channel::pair());
  c->cgroup->startCreateRest();
  c->channel = std::move(parentEnd);
  c->init = TRY(process::spawnInit(cfg, c->channel, childEnd));
  cfg.consoleSocket.reset();  // the init's copy is the only one now: its exit is our EOF
  st.pid = c->init.pid;
  // Before any hook runs or the program starts: both may use the devices.
  if (c->spec.linux) TRY(namespaces::moveNetDevices(c->spec.linux->netDevices, cfg.ns, st.pid, c->init.pidfd.get()));

  TRY_CTX(c->cgroup->createRest(), "cgroup");
  st.cgroup = c->cgroup->saveState();
  // The init joins by itself (Manager::cloneIntoFd has why), unless clone3
  // could not place it on cgroup2 (a kernel without CLONE_INTO_CGROUP).
  std::vector<UniqueFd> tasks = TRY_CTX(c->cgroup->openTasksFiles(), "cgroup");
  if (cfg.cgroupFd >= 0 && !c->init.clonedIntoCgroup) TRY_CTX(c->cgroup->apply(st.pid), "cgroup");
  if (resources) {
    TRY_CTX(c->cgroup->setResources(withDefaultDeviceRules(*resources, c->spec)), "config.json: linux.resources");
  }
  if (c->spec.process->oomScoreAdj)
    TRY_CTX(security::setOomScoreAdj(st.pid, *c->spec.process->oomScoreAdj), "process.oomScoreAdj");
  // The init waits for this before making its cgroup ns and mounting. A send
  // to an init that already failed is not the error: its message follows.
  std::vector<int> taskFds;
  for (const UniqueFd& t : tasks) taskFds.push_back(t.get());
  (void)c->channel.sendFds(process::Msg::CgroupJoined, taskFds);
  // Read once the init is on its way again (/proc/<pid>/stat is generated
  // per read); the state and the hooks need it, the init does not.
  st.startTime = TRY_CTX(sys::processStartTime(st.pid), "container init");

  // Without such hooks the init does not stop before pivot_root (init.hpp);
  // a failure of its rootfs setup then arrives in place of Ready.
  if (hooks::anyBeforeStart(c->spec)) {
    TRY(c->channel.expect(process::Msg::RunCreateHooks));
    std::string creating = hookState(st, ContainerStatus::Creating);
    // Hooks may ask for our state; without them nobody can see "creating"
    // before "created", so one write is saved (state writes dominate on
    // disks that discard synchronously).
    const auto& h = *c->spec.hooks;
    if (!h.prestart.empty() || !h.createRuntime.empty()) TRY(store.save(st));
    TRY(hooks::runHooks(h.prestart, creating, "prestart"));
    TRY(hooks::runHooks(h.createRuntime, creating, "createRuntime"));
    TRY(c->channel.send(process::Msg::HooksDone, creating));
  }
  if (cfg.seccomp && cfg.seccomp->notify) {
    UniqueFd listener = TRY(c->channel.expectFd(process::Msg::SeccompFd));
    const auto& sc = *c->spec.linux->seccomp;
    std::string creating = hookState(st, ContainerStatus::Creating);
    std::string procState = security::containerProcessState(c->spec.ociVersion, st.pid, sc.listenerMetadata, creating);
    TRY_CTX(security::sendToSeccompListener(sc.listenerPath.value_or(""), listener.get(), procState),
            "linux.seccomp.listenerPath");
  }
  TRY(c->channel.expect(process::Msg::Ready));
  if (consoleReceiver) c->consoleMaster = TRY_CTX(process::receiveFd(consoleReceiver.get()), "console");
  st.stored = ContainerStatus::Created;
  // `run` goes straight on to start and saves "running" then.
  if (!startAtOnce) TRY(store.save(st));
  TRY_CTX(writePidFile(opts.pidFile, st.pid), "--pid-file");
  rollback.dismiss();
  return c;
}

// `live`: the manager of a container this process made (run), which spares
// loading it again from the state.
// `emptied`: the caller reaped the init of a container with its own pid
// namespace, so the kernel has killed and reaped everything else in it:
// nothing is left in the cgroup to kill or thaw.
Status deleteStopped(Store& store, State& st, cgroups::Manager* live = nullptr, bool emptied = false);

// Poststart hooks run after the user program started; a failure destroys
// the container (poststop hooks included) and fails the operation, as runc.
Status runPoststart(Store& store, const spec::Spec& spec, State& st) {
  if (!spec.hooks || spec.hooks->poststart.empty()) return {};
  auto r = hooks::runHooks(spec.hooks->poststart, hookState(st, ContainerStatus::Running), "poststart");
  if (!r) {
    if (auto fd = openInit(st)) {
      sys::pidfdSendSignal(fd->get(), SIGKILL);
      waitExit(fd->get(), 5000);
    }
    ::waitpid(st.pid, nullptr, WNOHANG);
    if (auto d = deleteStopped(store, st); !d) log::warn(d.error().context("poststart cleanup").message());
  }
  return r;
}

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// Forwards every signal we receive to the init until it exits, then reaps it.
Result<int> forwardSignalsAndWait(const process::Spawned& init, const sigset_t& forwarded) {
  UniqueFd sfd(::signalfd(-1, &forwarded, SFD_CLOEXEC));
  if (!sfd) return Error::fromErrno("signalfd");
  pollfd fds[2] = {{init.pidfd.get(), POLLIN, 0}, {sfd.get(), POLLIN, 0}};
  for (;;) {
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno("poll");
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      if (::read(sfd.get(), &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD)
        sys::pidfdSendSignal(init.pidfd.get(), static_cast<int>(si.ssi_signo));
    }
    if (fds[0].revents & POLLIN) break;
  }
  int status = 0;
  while (::waitpid(init.pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::fromErrno("wait for container init");
  }
  return exitCodeOf(status);
}

Status deleteStopped(Store& store, State& st, cgroups::Manager* live, bool emptied) {
  if (!st.cgroup.empty()) {
    std::unique_ptr<cgroups::Manager> loaded;
    if (!live) {
      if (auto cg = cgroups::Manager::load(st.cgroup)) loaded = std::move(*cg);
      live = loaded.get();
    }
    // Someone may still have moved a process in from outside: then the long way.
    if (live && !(emptied && live->destroyEmptied())) {
      (void)live->killAll(SIGKILL);
      TRY_CTX(live->destroy(), "cgroup");
    }
  }
  // Poststop hooks need the config; it is still in the bundle.
  std::optional<spec::Spec> spec;
  if (st.poststopHooks) {
    if (auto s = spec::loadConfig(st.bundle)) spec = std::move(*s);
  }
  TRY(store.remove(st.id));
  if (spec && spec->hooks) hooks::runHooksWarnOnly(spec->hooks->poststop, hookState(st, ContainerStatus::Stopped), "poststop");
  return {};
}

}  // namespace

Status Runtime::create(const CreateOptions& opts) {
  auto c = createContainer(store_, opts, /*startAtOnce=*/false);
  if (!c) return std::move(c).error().context("create");
  return {};
}

Status Runtime::start(const std::string& id) {
  auto body = [&]() -> Status {
    auto lock = TRY(store_.lock(id));
    State st = TRY(store_.load(id));
    std::string dir = store_.dir(id);
    ContainerStatus cur = currentStatus(st, dir);
    if (cur != ContainerStatus::Created)
      return Error(std::string("container is ") + statusName(cur) + ", not created");
    auto pidfd = TRY(openInit(st));
    // Non-blocking open: the init is (or will be) blocked opening the write
    // end; if it died instead, the pidfd tells us and we do not hang.
    UniqueFd fifo(::open((dir + "/exec.fifo").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) return Error::fromErrno("open exec.fifo");
    pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    char byte = 0;
    for (;;) {
      int n = ::poll(fds, 2, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::fromErrno("poll exec.fifo");
      if (fds[0].revents & POLLIN) {
        if (::read(fifo.get(), &byte, 1) == 1) break;
      }
      if (fds[1].revents & POLLIN) return Error("container init exited before start");
      if (fds[0].revents & POLLHUP) {
        // The writer came and went without a byte: it failed.
        if (::read(fifo.get(), &byte, 1) == 1) break;
        return Error("container init exited before start");
      }
    }
    ::unlink((dir + "/exec.fifo").c_str());
    st.stored = ContainerStatus::Running;
    TRY(store_.save(st));
    if (st.poststartHooks) {
      if (auto spec = spec::loadConfig(st.bundle)) TRY(runPoststart(store_, *spec, st));
    }
    return {};
  };
  auto r = body();
  if (!r) return std::move(r).error().context("start");
  return {};
}

Result<int> Runtime::run(const RunOptions& opts) {
  // Signals are blocked before clone, so none is lost between clone and the
  // forwarding loop; the init unblocks them just before execve.
  sigset_t all, old;
  sigfillset(&all);
  sigdelset(&all, SIGSEGV);
  sigdelset(&all, SIGBUS);
  sigdelset(&all, SIGILL);
  sigdelset(&all, SIGFPE);
  sigprocmask(SIG_BLOCK, &all, &old);
  ScopeGuard restoreMask([&] { sigprocmask(SIG_SETMASK, &old, nullptr); });
  // Two-stage inits are our grandchildren: be their reaper.
  if (!opts.detach) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  // runc's rule: in the foreground the runtime is the terminal's other end.
  if (!opts.detach && !opts.create.consoleSocket.empty())
    return Error("run: --console-socket needs --detach (in the foreground the runtime holds the terminal)");
  auto made = createContainer(store_, opts.create, /*startAtOnce=*/true, /*attachTerminal=*/!opts.detach);
  if (!made) return std::move(made).error().context("run");
  Creation& c = **made;
  State& st = c.state;
  auto started = [&]() -> Status {
    // The init went on from Ready by itself (startAtOnce). EOF means execve
    // succeeded; anything else is the init's error.
    auto m = c.channel.receive();
    if (m && m->type == process::Msg::Error) return Error(m->payload);
    if (m) return Error(std::string("protocol error: unexpected ") + process::msgName(m->type));
    st.stored = ContainerStatus::Running;
    TRY(store_.save(st));
    TRY(runPoststart(store_, c.spec, st));
    return {};
  }();
  if (!started) {
    // A failed poststart already deleted the container; anything else did not.
    if (::access(store_.dir(st.id).c_str(), F_OK) == 0) destroyHalfMade(store_, c);
    return std::move(started).error().context("run");
  }
  if (opts.detach) return 0;
  c.lock.reset();  // others may query state while we wait
  auto code = c.consoleMaster
                  ? process::relayTerminalUntilExit(c.init.pid, c.init.pidfd.get(), std::move(c.consoleMaster), all)
                  : forwardSignalsAndWait(c.init, all);
  if (!code) return std::move(code).error().context("run");
  if (!opts.keep) {
    auto lock = store_.lock(st.id);
    if (lock) {
      if (auto d = deleteStopped(store_, st, c.cgroup.get(), st.ownPidNamespace); !d)
        log::warn(d.error().context("run: delete").message());
    }
  }
  return *code;
}

Result<std::string> Runtime::state(const std::string& id) {
  auto st = store_.load(id);
  if (!st) return std::move(st).error().context("state");
  return stateJson(*st, currentStatus(*st, store_.dir(id)));
}

Status Runtime::kill(const std::string& id, int signal, bool all) {
  auto body = [&]() -> Status {
    State st = TRY(store_.load(id));
    ContainerStatus cur = currentStatus(st, store_.dir(id));
    if (cur == ContainerStatus::Stopped) return Error("container \"" + id + "\" is not running");
    if (all && !st.cgroup.empty()) {
      auto cg = TRY(cgroups::Manager::load(st.cgroup));
      TRY_CTX(cg->killAll(signal), "kill --all");
      return {};
    }
    auto fd = TRY(openInit(st));
    if (sys::pidfdSendSignal(fd.get(), signal) != 0) return Error::fromErrno("send signal " + std::to_string(signal));
    return {};
  };
  auto r = body();
  if (!r) return std::move(r).error().context("kill");
  return {};
}

Status Runtime::remove(const std::string& id, bool force) {
  auto body = [&]() -> Status {
    TRY(validateId(id));
    // runc: deleting an unknown container with --force is not an error, so
    // cleanup scripts can run it unconditionally.
    if (force && ::access(store_.dir(id).c_str(), F_OK) != 0) return {};
    auto lock = TRY(store_.lock(id));
    State st = TRY(store_.load(id));
    ContainerStatus cur = currentStatus(st, store_.dir(id));
    if (cur == ContainerStatus::Running || cur == ContainerStatus::Paused) {
      if (!force) return Error("container \"" + id + "\" is " + statusName(cur) + ": stop it first or use --force");
    }
    if (cur != ContainerStatus::Stopped) {
      // A created container has never run user code: runc deletes it without
      // --force, and so do we.
      if (!st.cgroup.empty()) {
        if (auto cg = cgroups::Manager::load(st.cgroup)) (void)(*cg)->killAll(SIGKILL);
      }
      if (auto fd = openInit(st)) {
        sys::pidfdSendSignal(fd->get(), SIGKILL);
        if (!waitExit(fd->get(), 10000)) return Error("container init did not exit after SIGKILL");
      }
    }
    return deleteStopped(store_, st);
  };
  auto r = body();
  if (!r) return std::move(r).error().context("delete");
  return {};
}

Result<std::vector<Runtime::Entry>> Runtime::list() {
  std::vector<Entry> out;
  auto ids = TRY(store_.list());
  for (const auto& id : ids) {
    auto st = store_.load(id);
    if (!st) continue;
    out.push_back({*st, currentStatus(*st, store_.dir(id))});
  }
  return out;
}

Result<int> parseSignal(const std::string& s) {
  static const std::pair<const char*, int> kSignals[] = {
      {"HUP", SIGHUP},     {"INT", SIGINT},     {"QUIT", SIGQUIT},   {"ILL", SIGILL},       {"TRAP", SIGTRAP},
      {"ABRT", SIGABRT},   {"IOT", SIGIOT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},       {"KILL", SIGKILL},
      {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},
      {"TERM", SIGTERM},   {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
      {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},   {"URG", SIGURG},       {"XCPU", SIGXCPU},
      {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},   {"IO", SIGIO},
      {"POLL", SIGPOLL},   {"PWR", SIGPWR},     {"SYS", SIGSYS},
  };
  if (s.empty()) return Error("invalid signal \"\"");
  if (std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    long n = std::strtol(s.c_str(), nullptr, 10);
    if (n <= 0 || n >= NSIG) return Error("invalid signal \"" + s + "\"");
    return static_cast<int>(n);
  }
  std::string name = s;
  for (char& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (const auto& [n, v] : kSignals)
    if (name == n) return v;
  if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
    bool min = name[3] == 'I';
    std::string rest = name.substr(5);
    int off = 0;
    if (!rest.empty()) {
      if ((rest[0] != '+' && rest[0] != '-') || rest.size() < 2) return Error("invalid signal \"" + s + "\"");
      off = std::atoi(rest.c_str());
    }
    int v = (min ? SIGRTMIN : SIGRTMAX) + off;
    if (v < SIGRTMIN || v > SIGRTMAX) return Error("invalid signal \"" + s + "\"");
    return v;
  }
  return Error("invalid signal \"" + s + "\"");
}

}  // namespace berth::container
