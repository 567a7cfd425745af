#include "container/state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cgroups/manager.hpp"
#include "common/syscalls.hpp"

namespace berth::container {

using nlohmann::json;

const char* statusName(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::Creating: return "creating";
    case ContainerStatus::Created: return "created";
    case ContainerStatus::Running: return "running";
    case ContainerStatus::Paused: return "paused";
    case ContainerStatus::Stopped: return "stopped";
  }
  return "unknown";
}

std::string stateJson(const State& s, ContainerStatus status, bool compact) {
  json j = {
      {"ociVersion", s.ociVersion}, {"id", s.id},           {"status", statusName(status)},
      {"pid", status == ContainerStatus::Stopped ? 0 : s.pid}, {"bundle", s.bundle}, {"rootfs", s.rootfs},
      {"created", s.created},       {"owner", s.owner.empty() ? "" : s.owner},
  };
  if (!s.annotations.empty()) j["annotations"] = s.annotations;
  return compact ? j.dump() : j.dump(1, '\t');
}

Status validateId(const std::string& id) {
  if (id.empty()) return Error("container id must not be empty");
  if (id.size() > 1024) return Error("container id is longer than 1024 characters");
  if (id == "." || id == "..") return Error("invalid container id \"" + id + "\"");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == '+';
    if (!ok) return Error("invalid container id \"" + id + "\": only [A-Za-z0-9_.+-] allowed");
  }
  return {};
}

namespace {

Result<UniqueFd> lockDir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return Error::fromErrno("open " + path);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return Error::fromErrno("lock " + path);
  }
  return fd;
}

ContainerStatus parseStatus(const std::string& s) {
  if (s == "created") return ContainerStatus::Created;
  if (s == "running") return ContainerStatus::Running;
  if (s == "paused") return ContainerStatus::Paused;
  if (s == "stopped") return ContainerStatus::Stopped;
  return ContainerStatus::Creating;
}

}  // namespace

Result<UniqueFd> Store::createDir(const std::string& id) {
  TRY(sys::mkdirAll(root_, 0711));
  std::string d = dir(id);
  if (::mkdir(d.c_str(), 0711) != 0) {
    if (errno == EEXIST) return Error("container \"" + id + "\" already exists");
    return Error::fromErrno("mkdir " + d);
  }
  auto fd = lockDir(d);
  if (!fd) ::rmdir(d.c_str());
  return fd;
}

Result<UniqueFd> Store::lock(const std::string& id) const {
  TRY(validateId(id));
  std::string d = dir(id);
  if (::access(d.c_str(), F_OK) != 0) return Error("container \"" + id + "\" does not exist");
  auto fd = lockDir(d);
  if (!fd) return std::move(fd).error();
  // A concurrent delete may have removed it while we waited for the lock.
  if (::access((d + "/state.json").c_str(), F_OK) != 0) return Error("container \"" + id + "\" does not exist");
  return fd;
}

Status Store::save(const State& s) const {
  json j = {{"id", s.id},
            {"ociVersion", s.ociVersion},
            {"bundle", s.bundle},
            {"rootfs", s.rootfs},
            {"pid", s.pid},
            {"startTime", s.startTime},
            {"created", s.created},
            {"owner", s.owner},
            {"annotations", s.annotations},
            {"cgroup", s.cgroup},
            {"ownPidNamespace", s.ownPidNamespace},
            {"poststartHooks", s.poststartHooks},
            {"poststopHooks", s.poststopHooks},
            {"status", statusName(s.stored)}};
  return sys::writeFileAtomic(dir(s.id) + "/state.json", j.dump(), 0600);
}

Result<State> Store::load(const std::string& id) const {
  TRY(validateId(id));
  auto text = sys::readFile(dir(id) + "/state.json");
  if (!text) {
    if (text.error().code() == ENOENT) return Error("container \"" + id + "\" does not exist");
    return std::move(text).error();
  }
  try {
    json j = json::parse(*text);
    State s;
    s.id = j.at("id").get<std::string>();
    s.ociVersion = j.value("ociVersion", "");
    s.bundle = j.value("bundle", "");
    s.rootfs = j.value("rootfs", "");
    s.pid = j.value("pid", 0);
    s.startTime = j.value("startTime", uint64_t{0});
    s.created = j.value("created", "");
    s.owner = j.value("owner", "");
    s.annotations = j.value("annotations", std::map<std::string, std::string>{});
    s.cgroup = j.value("cgroup", "");
    s.ownPidNamespace = j.value("ownPidNamespace", false);
    s.poststartHooks = j.value("poststartHooks", true);  // older state: read the config to know
    s.poststopHooks = j.value("poststopHooks", true);
    s.stored = parseStatus(j.value("status", ""));
    return s;
  } catch (const json::exception& e) {
    return Error("state of container \"" + id + "\" is corrupt: " + e.what());
  }
}

Status Store::remove(const std::string& id) const {
  std::string d = dir(id);
  DIR* dp = ::opendir(d.c_str());
  if (!dp) return errno == ENOENT ? Status{} : Error::fromErrno("open " + d);
  while (dirent* e = ::readdir(dp)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    ::unlink((d + "/" + n).c_str());
  }
  ::closedir(dp);
  if (::rmdir(d.c_str()) != 0 && errno != ENOENT) return Error::fromErrno("remove " + d);
  return {};
}

Result<std::vector<std::string>> Store::list() const {
  std::vector<std::string> ids;
  DIR* dp = ::opendir(root_.c_str());
  if (!dp) {
    if (errno == ENOENT) return ids;
    return Error::fromErrno("open " + root_);
  }
  while (dirent* e = ::readdir(dp)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (::access((root_ + "/" + n + "/state.json").c_str(), F_OK) == 0) ids.push_back(n);
  }
  ::closedir(dp);
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool initAlive(const State& s) {
  if (s.pid <= 0) return false;
  if (::kill(s.pid, 0) != 0 && errno == ESRCH) return false;
  auto stat = sys::readFile("/proc/" + std::to_string(s.pid) + "/stat");
  if (!stat) return false;
  size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return false;
  char state = (*stat)[close + 2];
  if (state == 'Z' || state == 'X') return false;  // exited, not yet reaped
  auto start = sys::processStartTime(s.pid);
  return start && *start == s.startTime;
}

ContainerStatus currentStatus(const State& s, const std::string& stateDir) {
  if (s.stored == ContainerStatus::Creating) return initAlive(s) ? ContainerStatus::Creating : ContainerStatus::Stopped;
  if (!initAlive(s)) return ContainerStatus::Stopped;
  // The freezer, not the stored word, decides (as runc): a cgroup frozen or
  // thawed behind berth's back is reported as it is.
  bool paused = s.stored == ContainerStatus::Paused;
  if (!s.cgroup.empty()) {
    if (auto cg = cgroups::Manager::load(s.cgroup)) paused = (*cg)->isFrozen().valueOr(paused);
  }
  if (paused) return ContainerStatus::Paused;
  if (::access((stateDir + "/exec.fifo").c_str(), F_OK) == 0) return ContainerStatus::Created;
  return ContainerStatus::Running;
}

}  // namespace berth::container
