#include "harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/unique_fd.hpp"

extern char** environ;

namespace berth::it {

namespace {

using Clock = std::chrono::steady_clock;

// Reads what is available without blocking; false once the pipe hit EOF.
bool drain(int fd, std::string& into) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

int decodeStatus(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

// In the forked child: only async-signal-safe calls until execvp.
[[noreturn]] void execChild(const std::vector<std::string>& argv, const RunOptions& opts, int outW,
                            int errW) noexcept {
  ::setpgid(0, 0);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(outW, 1) < 0 || ::dup2(errW, 2) < 0) _exit(126);
  // Park the passed fds high first so placing them at 3.. cannot clobber one another.
  std::vector<int> parked;
  for (int fd : opts.passFds) parked.push_back(::fcntl(fd, F_DUPFD, 200));
  for (size_t i = 0; i < parked.size(); ++i) {
    if (parked[i] < 0 || ::dup2(parked[i], 3 + static_cast<int>(i)) < 0) _exit(126);
  }
  ::syscall(SYS_close_range, 3 + parked.size(), ~0U, 0);
  for (const auto& kv : opts.extraEnv) ::putenv(const_cast<char*>(kv.c_str()));
  if (opts.listenPidSelf) {
    // snprintf is not async-signal-safe; spell the pid by hand.
    static char pidEnv[32] = "LISTEN_PID=";
    char digits[16];
    int n = 0;
    for (pid_t p = ::getpid(); p > 0; p /= 10) digits[n++] = static_cast<char>('0' + p % 10);
    char* at = pidEnv + std::strlen(pidEnv);
    while (n > 0) *at++ = digits[--n];
    *at = '\0';
    ::putenv(pidEnv);
  }
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  ::execvp(cargv[0], cargv.data());
  _exit(127);
}

std::atomic<int> g_idCounter{0};

}  // namespace

ProcResult runProcess(const std::vector<std::string>& argv, const RunOptions& opts) {
  ProcResult r;
  int outP[2], errP[2];
  if (::pipe2(outP, O_CLOEXEC) < 0) return r;
  if (::pipe2(errP, O_CLOEXEC) < 0) {
    ::close(outP[0]);
    ::close(outP[1]);
    return r;
  }
  UniqueFd outR(outP[0]), outW(outP[1]), errR(errP[0]), errW(errP[1]);
  pid_t pid = ::fork();
  if (pid < 0) return r;
  if (pid == 0) execChild(argv, opts, outW.get(), errW.get());
  ::setpgid(pid, pid);  // also from here, so the kill below cannot race the child's own call
  outW.reset();
  errW.reset();
  ::fcntl(outR.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(errR.get(), F_SETFL, O_NONBLOCK);

  const auto deadline = Clock::now() + opts.timeout;
  bool outOpen = true, errOpen = true;
  int wstatus = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &wstatus, WNOHANG);
    if (w == pid) break;
    if (Clock::now() >= deadline) {
      r.timedOut = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &wstatus, 0);
      break;
    }
    pollfd fds[2] = {{outOpen ? outR.get() : -1, POLLIN, 0}, {errOpen ? errR.get() : -1, POLLIN, 0}};
    ::poll(fds, 2, 20);
    if (outOpen) outOpen = drain(outR.get(), r.out);
    if (errOpen) errOpen = drain(errR.get(), r.err);
  }
  // Whatever the exited process (and a `run` container before it) wrote is in the pipes now.
  if (outOpen) drain(outR.get(), r.out);
  if (errOpen) drain(errR.get(), r.err);
  r.status = r.timedOut ? -1 : decodeStatus(wstatus);
  return r;
}

std::string runtimeBinary() {
  if (const char* env = std::getenv("BERTH_TEST_RUNTIME"); env != nullptr && *env != '\0') return env;
  return BERTH_RUNTIME_BIN;
}

bool isBerth() {
  const std::string bin = runtimeBinary();
  return fs::path(bin).filename().string().find("berth") != std::string::npos;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeFile(const fs::path& path, const std::string& content, fs::perms mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  fs::permissions(path, mode);
}

std::vector<std::string> mountsUnder(const fs::path& dir) {
  std::vector<std::string> found;
  const std::string prefix = dir.string();
  std::istringstream in(readFile("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, rootInFs, mountPoint;
    fields >> id >> parent >> devno >> rootInFs >> mountPoint;
    if (mountPoint == prefix || mountPoint.rfind(prefix + "/", 0) == 0) found.push_back(mountPoint);
  }
  return found;
}

std::vector<int> processesMatching(const std::string& needle) {
  std::vector<int> pids;
  const int self = ::getpid();
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(name);
    if (pid == self) continue;
    std::string cmdline = readFile(entry.path() / "cmdline");
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(needle) != std::string::npos) pids.push_back(pid);
  }
  return pids;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  while (!out.empty() && trim(out.back()).empty()) out.pop_back();
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

Json defaultConfig(const std::vector<std::string>& args) {
  const Json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  return Json{
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", args},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "berth-it"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"},
         {"type", "devpts"},
         {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
        {{"destination", "/dev/shm"},
         {"type", "tmpfs"},
         {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"},
         {"type", "mqueue"},
         {"source", "mqueue"},
         {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"},
         {"type", "sysfs"},
         {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
      {"linux",
       {{"namespaces",
         {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}},
        {"readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
}

std::string RuntimeTest::cgroupPathFor(const std::string& id) { return "/berth-it-" + id; }

void RuntimeTest::SetUp() {
  const std::string bin = runtimeBinary();
  if (bin.find('/') != std::string::npos) {
    ASSERT_EQ(::access(bin.c_str(), X_OK), 0)
        << bin << " is not executable: build berth-runtime or set BERTH_TEST_RUNTIME (e.g. runc)";
  }
  char templ[] = "/tmp/berth-it-XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr) << std::strerror(errno);
  tmp_ = templ;
  // mkdtemp makes it 0700; a user-namespaced container root must traverse it.
  fs::permissions(tmp_, fs::perms(0755));
  bundle_ = tmp_ / "bundle";
  rootfs_ = bundle_ / "rootfs";
  root_ = tmp_ / "state";
  fs::create_directories(bundle_);
  fs::create_directories(root_);
  ProcResult cp = runProcess({"cp", "-a", BERTH_BUNDLE_ROOTFS, rootfs_.string()});
  ASSERT_EQ(cp.status, 0) << "copying the busybox rootfs: " << cp.err;
  id_ = newId();
  config_ = defaultConfig({"/bin/true"});
  config_["linux"]["cgroupsPath"] = cgroupPathFor(id_);
}

std::string RuntimeTest::newId() {
  // Fixed width, so no id is a prefix of another when processes are matched by name.
  char buf[64];
  std::snprintf(buf, sizeof buf, "bit%dn%04d", static_cast<int>(::getpid()), ++g_idCounter);
  std::string id = buf;
  ids_.push_back(id);
  return id;
}

void RuntimeTest::TearDown() {
  if (tmp_.empty()) return;
  for (const auto& id : ids_) {
    // Ask nicely first; a wedged container must still not outlive the test.
    if (!state(id).is_null()) rt({"delete", "--force", id}, {.timeout = std::chrono::milliseconds(10000)});
    std::vector<int> left = processesMatching(id);
    EXPECT_TRUE(left.empty()) << "processes naming " << id << " survived delete --force";
    for (int pid : left) ::kill(pid, SIGKILL);
    for (const char* ctl : {"pids", "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "systemd",
                            "unified"}) {
      const fs::path cg = fs::path("/sys/fs/cgroup") / ctl / cgroupPathFor(id).substr(1);
      std::error_code ec;
      if (fs::exists(cg, ec)) {
        ADD_FAILURE() << "cgroup left behind: " << cg;
        ::rmdir(cg.c_str());  // ours by name, and empty once its processes are gone
      }
    }
  }
  std::vector<std::string> mounts = mountsUnder(tmp_);
  EXPECT_TRUE(mounts.empty()) << "mounts left under " << tmp_ << ": " << ::testing::PrintToString(mounts);
  // Deepest first, so nothing below a mount is removed through it afterwards.
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  if (mountsUnder(tmp_).empty()) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
    EXPECT_FALSE(ec) << "removing " << tmp_ << ": " << ec.message();
  }
}

ProcResult RuntimeTest::rt(const std::vector<std::string>& args, const RunOptions& opts) {
  std::vector<std::string> argv = {runtimeBinary(), "--root", root_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProcess(argv, opts);
}

void RuntimeTest::writeConfig() { writeFile(bundle_ / "config.json", config_.dump(2)); }

ProcResult RuntimeTest::runSh(const std::string& script, const RunOptions& opts) {
  config_["process"]["args"] = {"/bin/sh", "-c", script};
  return runContainer(opts);
}

ProcResult RuntimeTest::runContainer(const RunOptions& opts) {
  writeConfig();
  return rt({"run", "--bundle", bundle_.string(), id_}, opts);
}

ProcResult RuntimeTest::create(const std::string& id, const RunOptions& opts) {
  writeConfig();
  return rt({"create", "--bundle", bundle_.string(), id}, opts);
}

Json RuntimeTest::state(const std::string& id) {
  ProcResult r = rt({"state", id}, {.timeout = std::chrono::milliseconds(5000)});
  if (r.status != 0) return nullptr;
  return Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
}

bool RuntimeTest::waitForStatus(const std::string& id, const std::string& status,
                                std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  do {
    Json s = state(id);
    if (s.is_object() && s.value("status", "") == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (Clock::now() < deadline);
  return false;
}

fs::path RuntimeTest::hostDir(const std::string& name) {
  fs::path dir = tmp_ / name;
  fs::create_directories(dir);
  return dir;
}

void RuntimeTest::expectNothingLeft(const std::string& id) {
  std::vector<std::string> entries;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_, ec)) entries.push_back(e.path().filename().string());
  EXPECT_TRUE(entries.empty()) << "state left in --root: " << ::testing::PrintToString(entries);
  EXPECT_TRUE(processesMatching(id).empty()) << "a process naming " << id << " is still running";
  EXPECT_TRUE(mountsUnder(bundle_).empty()) << "mounts left below the bundle";
}

}  // namespace berth::it
