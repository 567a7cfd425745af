// Timing driver for bench/run.sh: runs the container runtimes' commands
// interleaved, one iteration of each runtime after the other, so that machine
// noise hits all of them alike, and prints the tables.
//
// Built by run.sh with `g++ -O2 -static`: a child's ru_maxrss starts at the
// RSS its parent had when it forked (exec keeps the high-water mark of the
// old mm), so the driver must stay small or it would inflate every figure.
// The "/bin/true" row of the RSS table shows what is left of that floor.
//
// Usage (run.sh writes this):
//   driver -n N -w WORKDIR -b BUNDLE [-B BUNDLE_NONET] -f ROOTFS
//          -p ID_PREFIX [-r RAWFILE] [-P 10,100] name=path ...
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Options {
  int n = 50;
  std::string work, bundle, bundleNonet, rootfs, prefix = "bench", raw;
  std::vector<int> parallel{10, 100};
  std::vector<std::pair<std::string, std::string>> runtimes;  // name, path
};
Options opt;
FILE* rawOut = nullptr;

int64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Outcome {
  bool ok = false;
  int64_t ns = 0;
  long maxrssKb = 0;
};

// Spawns argv with stdin from /dev/null and stdout/stderr appended to `log`.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    fprintf(stderr, "driver: spawn %s: %s\n", argv[0], strerror(rc));
    return -1;
  }
  return pid;
}

// A hung runtime must not hang the benchmark: past this, it is killed and
// the iteration counts as failed.
constexpr int kTimeoutMs = 30000;

// Waits until `pid` exits, at most kTimeoutMs; false on timeout. Works for a
// process that is not our child too (then it is not reaped).
bool awaitExit(pid_t pid) {
  int fd = int(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  pollfd p{fd, POLLIN, 0};
  int rc;
  while ((rc = poll(&p, 1, kTimeoutMs)) < 0 && errno == EINTR) {
  }
  close(fd);
  return rc == 1;
}

// Reaps our child `pid`, killing it first if it outlives the timeout.
bool reap(pid_t pid, int* status, rusage* ru) {
  bool inTime = awaitExit(pid);
  if (!inTime) {
    fprintf(stderr, "driver: pid %d timed out, killed\n", pid);
    kill(pid, SIGKILL);
  }
  while (wait4(pid, status, 0, ru) < 0 && errno == EINTR) {
  }
  return inTime;
}

// The first few failures show the end of the runtime's log: the temp dir
// holding the logs is gone when run.sh ends.
void reportFailure(const std::vector<std::string>& args, const std::string& log) {
  static int reported = 0;
  if (++reported > 8) return;
  std::string cmd;
  for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
  fprintf(stderr, "driver: failed: %s\n", cmd.c_str());
  FILE* f = fopen(log.c_str(), "re");
  if (!f) return;
  char buf[600];
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, size > long(sizeof buf) - 1 ? size - long(sizeof buf) + 1 : 0, SEEK_SET);
  size_t got = fread(buf, 1, sizeof buf - 1, f);
  buf[got] = 0;
  fclose(f);
  fprintf(stderr, "  %s: ...%s\n", log.c_str(), buf);
}

Outcome runTimed(const std::vector<std::string>& args, const std::string& log) {
  Outcome o;
  int64_t t0 = nowNs();
  pid_t pid = spawn(args, log);
  if (pid < 0) return o;
  int st = 0;
  rusage ru{};
  bool inTime = reap(pid, &st, &ru);
  o.ns = nowNs() - t0;
  o.ok = inTime && WIFEXITED(st) && WEXITSTATUS(st) == 0;
  o.maxrssKb = ru.ru_maxrss;
  if (!o.ok) reportFailure(args, log);
  return o;
}

// The container's init is reparented to us (we are a subreaper), so we can
// reap it like our own child; a runtime that keeps it is covered by pidfd.
bool waitExit(pid_t pid) {
  bool inTime = awaitExit(pid);
  if (!inTime) kill(pid, SIGKILL);  // delete --force then cleans up its state
  waitpid(pid, nullptr, inTime ? 0 : WNOHANG);  // ECHILD at once if it is not ours
  return inTime;
}

void reapStrays() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

pid_t readPid(const std::string& file) {
  FILE* f = fopen(file.c_str(), "re");
  if (!f) return -1;
  long pid = -1;
  if (fscanf(f, "%ld", &pid) != 1) pid = -1;
  fclose(f);
  return pid_t(pid);
}

// One series of measurements: a (runtime, scenario, step) cell of a table.
struct Series {
  std::string runtime, scenario, step;
  std::vector<int64_t> ns;
  std::vector<long> rss;
  int failures = 0;
  void add(const Outcome& o, int iter) {
    if (!o.ok) ++failures;
    ns.push_back(o.ns);
    rss.push_back(o.maxrssKb);
    if (rawOut)
      fprintf(rawOut, "%s\t%s\t%s\t%d\t%lld\t%ld\t%d\n", runtime.c_str(), scenario.c_str(), step.c_str(), iter,
              (long long)o.ns, o.maxrssKb, o.ok ? 1 : 0);
  }
  double quantileMs(double q) const {
    if (ns.empty()) return 0;
    std::vector<int64_t> v = ns;
    std::sort(v.begin(), v.end());
    size_t i = size_t(q * double(v.size() - 1) + 0.5);
    return double(v[std::min(i, v.size() - 1)]) / 1e6;
  }
  long maxRss() const { return rss.empty() ? 0 : *std::max_element(rss.begin(), rss.end()); }
};
std::vector<Series> allSeries;

Series& series(const std::string& rt, const std::string& sc, const std::string& step) {
  for (auto& s : allSeries)
    if (s.runtime == rt && s.scenario == sc && s.step == step) return s;
  allSeries.push_back(Series{rt, sc, step, {}, {}, 0});
  allSeries.back().ns.reserve(size_t(opt.n));
  allSeries.back().rss.reserve(size_t(opt.n));
  return allSeries.back();
}
const Series* findSeries(const std::string& rt, const std::string& sc, const std::string& step) {
  for (const auto& s : allSeries)
    if (s.runtime == rt && s.scenario == sc && s.step == step) return &s;
  return nullptr;
}

struct Runtime {
  std::string name, path, root, log;
  std::vector<std::string> cmd(std::initializer_list<std::string> rest) const {
    std::vector<std::string> v{path, "--root", root};
    v.insert(v.end(), rest);
    return v;
  }
};

std::string idFor(const Runtime& rt, const std::string& tag, int i) {
  return opt.prefix + "-" + rt.name + "-" + tag + "-" + std::to_string(i);
}

// (a) `run ID` in the foreground.
Outcome scenarioRun(const Runtime& rt, const std::string& bundle, const std::string& tag, int i) {
  return runTimed(rt.cmd({"run", "--bundle", bundle, idFor(rt, tag, i)}), rt.log);
}

// (b) create, start, wait for the init to exit, delete.
void scenarioLifecycle(const Runtime& rt, int i, bool record) {
  std::string id = idFor(rt, "csd", i);
  std::string pidFile = opt.work + "/" + id + ".pid";
  int64_t t0 = nowNs();
  Outcome c = runTimed(rt.cmd({"create", "--bundle", opt.bundle, "--pid-file", pidFile, id}), rt.log);
  pid_t pid = c.ok ? readPid(pidFile) : -1;
  Outcome s, w, d;
  if (pid > 0) {
    s = runTimed(rt.cmd({"start", id}), rt.log);
    int64_t tw = nowNs();
    w.ok = s.ok && waitExit(pid);
    w.ns = nowNs() - tw;
    d = runTimed(rt.cmd({"delete", id}), rt.log);
  }
  if (!d.ok) runTimed(rt.cmd({"delete", "--force", id}), rt.log);
  Outcome total{c.ok && s.ok && w.ok && d.ok, nowNs() - t0, 0};
  unlink(pidFile.c_str());
  reapStrays();
  if (!record) return;
  series(rt.name, "lifecycle", "create").add(c, i);
  series(rt.name, "lifecycle", "start").add(s, i);
  series(rt.name, "lifecycle", "wait-exit").add(w, i);
  series(rt.name, "lifecycle", "delete").add(d, i);
  series(rt.name, "lifecycle", "total").add(total, i);
}

// The kernel floor: the same namespaces and a chroot, nothing else.
Outcome floorRun(bool net) {
  std::vector<std::string> a{"/usr/bin/unshare", "--pid", "--fork", "--ipc", "--uts", "--mount"};
  if (net) a.push_back("--net");
  a.insert(a.end(), {"/usr/sbin/chroot", opt.rootfs, "/bin/true"});
  return runTimed(a, opt.work + "/floor.log");
}

long rssOfPid(pid_t pid, const char* field) {
  std::string path = "/proc/" + std::to_string(pid) + "/smaps_rollup";
  FILE* f = fopen(path.c_str(), "re");
  if (!f) return 0;
  char line[256];
  long kb = 0;
  size_t len = strlen(field);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, len) == 0 && line[len] == ':') kb = strtol(line + len + 1, nullptr, 10);
  fclose(f);
  return kb;
}

struct ParallelResult {
  int count = 0, failures = 0;
  double wallMs = 0;
  long sumRss = 0, maxRss = 0, heldRss = 0, heldPss = 0;
};

// (d) `count` creates at once; then what the waiting inits hold; then start
// and delete them all (not timed).
ParallelResult scenarioParallel(const Runtime& rt, int count) {
  ParallelResult r;
  r.count = count;
  std::string tag = "par" + std::to_string(count);
  std::vector<pid_t> pids(size_t(count), -1);
  int64_t t0 = nowNs();
  for (int j = 0; j < count; ++j) {
    std::string id = idFor(rt, tag, j);
    pids[size_t(j)] = spawn(rt.cmd({"create", "--bundle", opt.bundle, "--pid-file", opt.work + "/" + id + ".pid", id}),
                            rt.log);
  }
  for (int j = 0; j < count; ++j) {
    if (pids[size_t(j)] < 0) {
      ++r.failures;
      continue;
    }
    int st = 0;
    rusage ru{};
    if (!reap(pids[size_t(j)], &st, &ru) || !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
      ++r.failures;
      reportFailure({rt.name, "create", idFor(rt, tag, j)}, rt.log);
    }
    r.sumRss += ru.ru_maxrss;
    r.maxRss = std::max(r.maxRss, long(ru.ru_maxrss));
  }
  r.wallMs = double(nowNs() - t0) / 1e6;
  std::vector<pid_t> inits(size_t(count), -1);
  for (int j = 0; j < count; ++j) {
    inits[size_t(j)] = readPid(opt.work + "/" + idFor(rt, tag, j) + ".pid");
    if (inits[size_t(j)] > 0) {
      r.heldRss += rssOfPid(inits[size_t(j)], "Rss");
      r.heldPss += rssOfPid(inits[size_t(j)], "Pss");
    }
  }
  for (int j = 0; j < count; ++j) {
    std::string id = idFor(rt, tag, j);
    if (inits[size_t(j)] > 0 && runTimed(rt.cmd({"start", id}), rt.log).ok) waitExit(inits[size_t(j)]);
    if (!runTimed(rt.cmd({"delete", id}), rt.log).ok) runTimed(rt.cmd({"delete", "--force", id}), rt.log);
    unlink((opt.work + "/" + id + ".pid").c_str());
  }
  reapStrays();
  return r;
}

// crun 1.8 refuses a hybrid host with cgroup2 on /sys/fs/cgroup/unified: hide
// it in a mount namespace of our own that every runtime then shares.
bool enterBenchNamespace() {
  if (unshare(CLONE_NEWNS) != 0) return perror("driver: unshare(CLONE_NEWNS)"), false;
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return perror("driver: make / rprivate"), false;
  if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return perror("driver: umount /sys/fs/cgroup/unified"), false;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return perror("driver: subreaper"), false;
  return true;
}

void printTimeTable(const std::vector<Runtime>& rts, const std::string& scenario, const std::string& step,
                    const char* floorName, bool header = true) {
  const Series* crun = findSeries("crun", scenario, step);
  double crunMed = crun ? crun->quantileMs(0.5) : 0;
  if (header) printf("%-14s %-10s %9s %9s %9s %8s %5s\n", "runtime", "step", "median", "p90", "min", "/crun", "fail");
  auto row = [&](const Series& s) {
    double med = s.quantileMs(0.5);
    char ratio[32] = "-";
    if (crunMed > 0) snprintf(ratio, sizeof ratio, "%.2fx", med / crunMed);
    printf("%-14s %-10s %7.2fms %7.2fms %7.2fms %8s %5d\n", s.runtime.c_str(), s.step.c_str(), med, s.quantileMs(0.9),
           s.quantileMs(0.0), ratio, s.failures);
  };
  for (const auto& rt : rts)
    if (const Series* s = findSeries(rt.name, scenario, step)) row(*s);
  if (floorName)
    if (const Series* s = findSeries(floorName, scenario, step)) row(*s);
}

void printRatioToFloor(const std::string& scenario, const char* floorName) {
  const Series* b = findSeries("berth", scenario, "run");
  const Series* f = findSeries(floorName, scenario, "run");
  if (b && f && f->quantileMs(0.5) > 0)
    printf("berth/floor (median): %.2fx  (berth %.2fms over the floor)\n", b->quantileMs(0.5) / f->quantileMs(0.5),
           b->quantileMs(0.5) - f->quantileMs(0.5));
}

bool parseArgs(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "-n") opt.n = atoi(next().c_str());
    else if (a == "-w") opt.work = next();
    else if (a == "-b") opt.bundle = next();
    else if (a == "-B") opt.bundleNonet = next();
    else if (a == "-f") opt.rootfs = next();
    else if (a == "-p") opt.prefix = next();
    else if (a == "-r") opt.raw = next();
    else if (a == "-P") {
      opt.parallel.clear();
      std::string list = next();
      for (size_t p = 0; p < list.size();) {
        size_t c = list.find(',', p);
        if (c == std::string::npos) c = list.size();
        if (int k = atoi(list.substr(p, c - p).c_str()); k > 0) opt.parallel.push_back(k);
        p = c + 1;
      }
    } else if (auto eq = a.find('='); eq != std::string::npos) opt.runtimes.emplace_back(a.substr(0, eq), a.substr(eq + 1));
    else return false;
  }
  return opt.n > 0 && !opt.work.empty() && !opt.bundle.empty() && !opt.rootfs.empty() && !opt.runtimes.empty();
}

}  // namespace

int main(int argc, char** argv) {
  if (!parseArgs(argc, argv)) {
    fprintf(stderr, "usage: driver -n N -w WORK -b BUNDLE [-B BUNDLE_NONET] -f ROOTFS -p PREFIX [-r RAW] "
                    "[-P 10,100] name=path...\n");
    return 2;
  }
  if (!enterBenchNamespace()) return 1;
  // Whatever fds our caller leaked stay out of the runtimes and containers.
  syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
  signal(SIGPIPE, SIG_IGN);
  if (!opt.raw.empty()) rawOut = fopen(opt.raw.c_str(), "we");

  std::vector<Runtime> rts;
  for (const auto& [name, path] : opt.runtimes) {
    Runtime rt{name, path, opt.work + "/root-" + name, opt.work + "/" + name + ".log"};
    mkdir(rt.root.c_str(), 0700);
    // Each runtime must work in this namespace before its numbers mean anything.
    Outcome o = scenarioRun(rt, opt.bundle, "check", 0);
    if (!o.ok) {
      fprintf(stderr, "driver: %s fails `run` here, left out (see %s)\n", name.c_str(), rt.log.c_str());
      continue;
    }
    rts.push_back(rt);
  }
  if (rts.empty()) return 1;
  if (!floorRun(true).ok) fprintf(stderr, "driver: the unshare floor fails (see %s/floor.log)\n", opt.work.c_str());

  // Warm caches (page cache, dentries, the runtimes' binaries) unrecorded.
  for (int i = 0; i < 3; ++i)
    for (const auto& rt : rts) {
      scenarioRun(rt, opt.bundle, "warm", i);
      scenarioLifecycle(rt, -1 - i, false);
    }

  Outcome t = runTimed({"/bin/true"}, "/dev/null");
  Series& baseline = series("/bin/true", "rss", "spawn");
  baseline.add(t, 0);

  bool nonet = !opt.bundleNonet.empty();
  for (int i = 0; i < opt.n; ++i) {
    // Rotate who goes first so no runtime always follows the same neighbour.
    for (size_t k = 0; k < rts.size() + 1; ++k) {
      size_t idx = (k + size_t(i)) % (rts.size() + 1);
      if (idx == rts.size()) {
        series("floor", "run", "run").add(floorRun(true), i);
        if (nonet) series("floor-nonet", "run-nonet", "run").add(floorRun(false), i);
        continue;
      }
      const Runtime& rt = rts[idx];
      series(rt.name, "run", "run").add(scenarioRun(rt, opt.bundle, "run", i), i);
      if (nonet) series(rt.name, "run-nonet", "run").add(scenarioRun(rt, opt.bundleNonet, "nonet", i), i);
      scenarioLifecycle(rt, i, true);
    }
  }

  printf("\n== (a) run /bin/true, N=%d (pid ipc uts mount network namespaces)\n", opt.n);
  printTimeTable(rts, "run", "run", "floor");
  printRatioToFloor("run", "floor");
  if (nonet) {
    printf("\n== (a') run /bin/true without the network namespace, N=%d\n", opt.n);
    printTimeTable(rts, "run-nonet", "run", "floor-nonet");
    printRatioToFloor("run-nonet", "floor-nonet");
  }
  printf("\n== (b) create + start + wait for exit + delete, N=%d\n", opt.n);
  bool first = true;
  for (const char* step : {"total", "create", "start", "wait-exit", "delete"}) {
    printTimeTable(rts, "lifecycle", step, nullptr, first);
    first = false;
  }

  printf("\n== (c) peak RSS per command (max ru_maxrss over all iterations, MiB)\n");
  printf("%-14s %8s %8s %8s %8s\n", "runtime", "run", "create", "start", "delete");
  for (const auto& rt : rts) {
    auto mb = [&](const char* sc, const char* step) {
      const Series* s = findSeries(rt.name, sc, step);
      return s ? double(s->maxRss()) / 1024.0 : 0.0;
    };
    printf("%-14s %8.2f %8.2f %8.2f %8.2f\n", rt.name.c_str(), mb("run", "run"), mb("lifecycle", "create"),
           mb("lifecycle", "start"), mb("lifecycle", "delete"));
  }
  printf("%-14s %8.2f  (floor of any child: /bin/true spawned by the driver)\n", "/bin/true",
         double(baseline.maxRss()) / 1024.0);
  if (const Series* f = findSeries("floor", "run", "run"))
    printf("%-14s %8.2f  (unshare+chroot floor)\n", "floor", double(f->maxRss()) / 1024.0);

  if (!opt.parallel.empty()) {
    printf("\n== (d) K creates in parallel (then start+delete, untimed); RSS in MiB\n");
    printf("%-10s %5s %5s %10s %12s %10s %10s %12s %12s\n", "runtime", "K", "fail", "wall", "per-create", "sumRSS",
           "maxRSS", "RSS/ctr", "held/ctr");
    for (int k : opt.parallel)
      for (const auto& rt : rts) {
        ParallelResult r = scenarioParallel(rt, k);
        if (rawOut)
          fprintf(rawOut, "%s\tparallel\t%d\t%d\t%.0f\t%ld\t%d\n", rt.name.c_str(), k, r.failures, r.wallMs * 1e6,
                  r.sumRss, r.failures == 0);
        printf("%-10s %5d %5d %8.1fms %10.2fms %10.2f %10.2f %12.2f %6.2f/%5.2f\n", rt.name.c_str(), k, r.failures,
               r.wallMs, r.wallMs / k, double(r.sumRss) / 1024.0, double(r.maxRss) / 1024.0,
               double(r.sumRss) / 1024.0 / k, double(r.heldRss) / 1024.0 / k, double(r.heldPss) / 1024.0 / k);
      }
    printf("(RSS/ctr: sum of the create commands' ru_maxrss / K; held/ctr: Rss/Pss of each waiting init)\n");
  }
  if (rawOut) fclose(rawOut);
  return 0;
}
