// Dir, the shared helpers of both managers, paths and unit conversions.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "cgroups/controllers.hpp"
#include "common/syscalls.hpp"
#include "common/unique_fd.hpp"

namespace berth::cgroups {

bool Dir::has(const std::string& file) const { return ::access((path_ + "/" + file).c_str(), F_OK) == 0; }

Result<std::string> Dir::read(const std::string& file) const { return sys::readFile(path_ + "/" + file); }

Result<std::string> Dir::readLine(const std::string& file) const {
  auto s = TRY(read(file));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<uint64_t> Dir::readU64(const std::string& file) const {
  auto s = TRY(readLine(file));
  if (s == "max") return UINT64_MAX;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || errno != 0 || *end != '\0') return Error("parse " + path_ + "/" + file + ": \"" + s + "\"");
  return static_cast<uint64_t>(v);
}

Status Dir::write(const std::string& file, const std::string& value) const {
  return sys::writeFile(path_ + "/" + file, value);
}

Status Dir::writeField(const std::string& field, const std::string& file, const std::string& value) const {
  if (auto st = write(file, value); !st) {
    Error e = std::move(st).error();
    return Error("write \"" + value + "\" to " + file, e.code()).context(kRes + field);
  }
  return {};
}

Error fieldError(const std::string& field, const std::string& msg, int errnum) {
  return Error(msg, errnum).context(kRes + field);
}

std::map<std::string, uint64_t> parseKeyValues(const std::string& text) {
  std::map<std::string, uint64_t> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    size_t sp = line.find(' ');
    if (sp == std::string::npos) continue;
    out[line.substr(0, sp)] = std::strtoull(line.c_str() + sp + 1, nullptr, 10);
  }
  return out;
}

namespace {

Status collectInto(const std::string& dir, std::vector<pid_t>& out) {
  auto procs = sys::readFile(dir + "/cgroup.procs");
  if (!procs) {
    if (procs.error().code() == ENOENT) return {};
    return std::move(procs).error();
  }
  const char* p = procs->c_str();
  while (*p) {
    char* end = nullptr;
    long v = std::strtol(p, &end, 10);
    if (end == p) break;
    out.push_back(static_cast<pid_t>(v));
    p = end;
    while (*p == '\n' || *p == ' ') ++p;
  }
  DIR* d = ::opendir(dir.c_str());
  if (!d) return {};
  std::vector<std::string> subdirs;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type == DT_DIR && std::string(e->d_name) != "." && std::string(e->d_name) != "..")
      subdirs.push_back(dir + "/" + e->d_name);
  }
  ::closedir(d);
  for (const auto& s : subdirs) TRY(collectInto(s, out));
  return {};
}

}  // namespace

Result<std::vector<pid_t>> collectPids(const std::string& dir) {
  std::vector<pid_t> out;
  TRY(collectInto(dir, out));
  return out;
}

Status removeTree(const std::string& dir) {
  // The common case, a leaf cgroup: one syscall. Busy (children, or a
  // process not yet released) or not empty (a fake cgroupfs): the long way.
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return {};
    return Error::fromErrno("open " + dir);
  }
  std::vector<std::string> subdirs;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type == DT_DIR && std::string(e->d_name) != "." && std::string(e->d_name) != "..")
      subdirs.push_back(dir + "/" + e->d_name);
  }
  ::closedir(d);
  for (const auto& s : subdirs) TRY(removeTree(s));
  // A cgroup whose last process has just exited stays busy until the kernel
  // has released it; that takes milliseconds, so retry for a while.
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || attempt >= 100) return Error::fromErrno("rmdir " + dir);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool pollUntil(const std::function<bool()>& done, int timeoutMs) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

const char* layoutName(Layout layout) {
  switch (layout) {
    case Layout::V1: return "v1";
    case Layout::Hybrid: return "hybrid";
    case Layout::V2: return "v2";
  }
  return "?";
}

Result<std::string> containerCgroupPath(const std::optional<std::string>& cgroupsPath, const std::string& id) {
  std::string raw = cgroupsPath ? *cgroupsPath : "/berth/" + id;
  const std::string field = cgroupsPath ? "linux.cgroupsPath" : "container id";
  if (raw.empty()) return Error("must not be empty").context(field);
  // Normalise: one leading '/', no empty or "." components; ".." would climb
  // out of the hierarchy the runtime manages, so it is refused outright.
  std::string out;
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t next = raw.find('/', pos);
    if (next == std::string::npos) next = raw.size();
    std::string comp = raw.substr(pos, next - pos);
    pos = next + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") return Error("\"" + raw + "\": \"..\" components are not allowed").context(field);
    if (comp.find('\n') != std::string::npos) return Error("\"" + raw + "\": newline in path").context(field);
    out += "/" + comp;
  }
  if (out.empty()) return Error("\"" + raw + "\": the root cgroup cannot be a container's cgroup").context(field);
  return out;
}

namespace convert {

uint64_t cpuSharesToWeight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkioWeightToIoWeight(uint64_t weight) {
  if (weight == 0) return 0;
  return 1 + (weight - 10) * 9999 / 990;
}

Result<std::optional<int64_t>> memorySwapToV2(std::optional<int64_t> swap, std::optional<int64_t> limit) {
  // v1 keeps "memory+swap", v2 "swap alone". An unlimited memory with swap
  // unset means "both unlimited", as v1 would behave.
  if (!swap) {
    if (limit && *limit == -1) return std::optional<int64_t>(-1);
    return std::optional<int64_t>();
  }
  if (*swap == -1) return std::optional<int64_t>(-1);
  if (*swap < 0) return fieldError("memory.swap", "invalid value " + std::to_string(*swap));
  if (!limit || *limit == -1)
    return fieldError("memory.swap", "a swap limit needs a memory limit (linux.resources.memory.limit)");
  if (*swap < *limit)
    return fieldError("memory.swap", std::to_string(*swap) + " is below the memory limit " + std::to_string(*limit) +
                                         " (swap is memory+swap)");
  return std::optional<int64_t>(*swap - *limit);
}

Result<uint64_t> hugePageSizeBytes(const std::string& pageSize) {
  size_t i = 0;
  while (i < pageSize.size() && std::isdigit(static_cast<unsigned char>(pageSize[i]))) ++i;
  if (i == 0 || i + 2 != pageSize.size() || pageSize[i + 1] != 'B')
    return Error("\"" + pageSize + "\" is not <size><K|M|G|T>B");
  uint64_t n = std::strtoull(pageSize.substr(0, i).c_str(), nullptr, 10);
  int shift = 0;
  switch (pageSize[i]) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    default: return Error("\"" + pageSize + "\" is not <size><K|M|G|T>B");
  }
  return n << shift;
}

}  // namespace convert

}  // namespace berth::cgroups

namespace berth::cgroups {

Result<std::vector<std::string>> readControllers(const Dir& d, const std::string& file) {
  auto s = TRY(d.read(file));
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find_first_of(" \n", pos);
    if (end == std::string::npos) end = s.size();
    if (end > pos) out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

void enableControllers(const std::string& top, const std::string& rel, const std::vector<std::string>& controllers) {
  std::string cur = top;
  size_t pos = 1;
  for (;;) {
    size_t next = rel.find('/', pos);
    if (next == std::string::npos) break;  // `cur` is now the leaf's parent
    Dir d(cur);
    auto enabled = readControllers(d, "cgroup.subtree_control").valueOr({});
    for (const auto& c : controllers) {
      if (std::find(enabled.begin(), enabled.end(), c) != enabled.end()) continue;
      // One at a time: a single refused controller must not block the rest.
      (void)d.write("cgroup.subtree_control", "+" + c);
    }
    cur = top + rel.substr(0, next);
    pos = next + 1;
  }
  Dir d(cur);
  auto enabled = readControllers(d, "cgroup.subtree_control").valueOr({});
  for (const auto& c : controllers)
    if (std::find(enabled.begin(), enabled.end(), c) == enabled.end()) (void)d.write("cgroup.subtree_control", "+" + c);
}

Status makeCgroupDirs(const std::string& top, const std::string& rel, std::vector<std::string>& created) {
  size_t pos = 1;
  while (pos <= rel.size()) {
    size_t next = rel.find('/', pos);
    if (next == std::string::npos) next = rel.size();
    std::string dir = top + rel.substr(0, next);
    if (::mkdir(dir.c_str(), 0755) == 0) {
      created.push_back(dir);
    } else if (errno != EEXIST) {
      return Error::fromErrno("mkdir " + dir);
    }
    pos = next + 1;
  }
  return {};
}

void removeCreated(const std::vector<std::string>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) ::rmdir(it->c_str());
}

Status joinCgroup(const std::string& dir, pid_t pid) { return Dir(dir).write("cgroup.procs", std::to_string(pid)); }

Status joinThroughTasks(std::vector<UniqueFd>& tasks) {
  for (UniqueFd& fd : tasks) {
    TRY_CTX(sys::writeAll(fd.get(), "0", 1), "join cgroup");
    fd.reset();
  }
  return {};
}

Status signalAll(const std::string& dir, int signal) {
  auto pids = TRY(collectPids(dir));
  for (pid_t p : pids)
    if (::kill(p, signal) != 0 && errno != ESRCH) return Error::fromErrno("kill " + std::to_string(p));
  return {};
}

}  // namespace berth::cgroups
