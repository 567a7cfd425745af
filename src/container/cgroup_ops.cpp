#include "container/cgroup_ops.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "common/syscalls.hpp"
#include "common/unique_fd.hpp"
#include "spec/parse.hpp"
#include "spec/validate.hpp"

extern char** environ;

namespace berth::container {
namespace {

using Clock = std::chrono::steady_clock;

struct Loaded {
  State state;
  ContainerStatus status;
  std::unique_ptr<cgroups::Manager> cgroup;
};

Result<Loaded> loadWithCgroup(const Store& store, const std::string& id) {
  TRY(validateId(id));
  Loaded c{TRY(store.load(id)), ContainerStatus::Stopped, nullptr};
  c.status = currentStatus(c.state, store.dir(id));
  if (c.state.cgroup.empty()) return Error("container \"" + id + "\" has no cgroup");
  c.cgroup = TRY_CTX(cgroups::Manager::load(c.state.cgroup), "container \"" + id + "\"");
  return c;
}

Error wrongState(const std::string& id, ContainerStatus status, const char* wanted) {
  return Error("container \"" + id + "\" is " + statusName(status) + ", not " + wanted);
}

// The stored status a thawed container goes back to.
ContainerStatus unpausedStatus(const Store& store, const std::string& id) {
  return ::access((store.dir(id) + "/exec.fifo").c_str(), F_OK) == 0 ? ContainerStatus::Created
                                                                       : ContainerStatus::Running;
}

Status withCtx(Status st, const char* ctx) {
  if (!st) return std::move(st).error().context(ctx);
  return st;
}

}  // namespace

Status pauseContainer(const Store& store, const std::string& id) {
  auto body = [&]() -> Status {
    auto lock = TRY(store.lock(id));
    auto c = TRY(loadWithCgroup(store, id));
    // runc pauses created containers too: their init waits in exec.fifo.
    if (c.status != ContainerStatus::Running && c.status != ContainerStatus::Created)
      return wrongState(id, c.status, "running");
    TRY(c.cgroup->freeze());
    c.state.stored = ContainerStatus::Paused;
    if (auto saved = store.save(c.state); !saved) {
      (void)c.cgroup->thaw();  // state and freezer must agree
      return saved;
    }
    return {};
  };
  return withCtx(body(), "pause");
}

Status resumeContainer(const Store& store, const std::string& id) {
  auto body = [&]() -> Status {
    // Thaw before taking the lock: a command holding it may itself be
    // waiting for a frozen process (e.g. an exec that joined the cgroup),
    // and only a thaw can free it. Thawing twice is harmless.
    auto c = TRY(loadWithCgroup(store, id));
    if (c.status != ContainerStatus::Paused) return wrongState(id, c.status, "paused");
    TRY(c.cgroup->thaw());
    auto lock = TRY(store.lock(id));
    State st = TRY(store.load(id));
    st.stored = unpausedStatus(store, id);
    return store.save(st);
  };
  return withCtx(body(), "resume");
}

// ---- update ----

Result<int64_t> parseMemoryBytes(const std::string& value) {
  if (value == "-1") return int64_t{-1};
  size_t i = 0;
  while (i < value.size() && (std::isdigit(static_cast<unsigned char>(value[i])) || value[i] == '.')) ++i;
  std::string number = value.substr(0, i), unit = value.substr(i);
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  for (char& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const Error bad("invalid size \"" + value + "\" (bytes, e.g. 512m, or -1 for unlimited)");
  if (number.empty() || number[0] == '.' || number.back() == '.' || std::count(number.begin(), number.end(), '.') > 1)
    return bad;
  static const std::string kUnits = "kmgtp";
  double mult = 1;
  if (!unit.empty()) {
    size_t pos = kUnits.find(unit[0]);
    size_t rest = 0;
    if (pos != std::string::npos) {
      mult = std::pow(1024.0, static_cast<double>(pos + 1));
      rest = 1;
      if (rest < unit.size() && unit[rest] == 'i') ++rest;
    }
    if (rest < unit.size() && unit[rest] == 'b') ++rest;
    if (rest != unit.size()) return bad;
  }
  double bytes = std::strtod(number.c_str(), nullptr) * mult;
  if (!(bytes < 9.2e18)) return bad;
  return static_cast<int64_t>(bytes);
}

namespace {

Result<int64_t> parseInt(const std::string& flag, const std::string& v, int64_t min, int64_t max) {
  errno = 0;
  char* end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE || n < min || n > max)
    return Error(flag + ": invalid value \"" + v + "\" (an integer from " + std::to_string(min) + " to " +
                 std::to_string(max) + ")");
  return static_cast<int64_t>(n);
}

Result<std::string> readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::fromErrno("open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Result<spec::Resources> updateResources(const UpdateFlags& f, const std::function<std::string()>& readStdin) {
  spec::Resources r;
  if (!f.resourcesFile.empty()) {
    std::string json = f.resourcesFile == "-" ? readStdin() : TRY_CTX(readWholeFile(f.resourcesFile), "--resources");
    r = TRY_CTX(spec::parseResources(json), "--resources");
  }
  auto mem = [&]() -> spec::MemoryResources& {
    if (!r.memory) r.memory.emplace();
    return *r.memory;
  };
  auto cpu = [&]() -> spec::CpuResources& {
    if (!r.cpu) r.cpu.emplace();
    return *r.cpu;
  };
  if (f.memory) mem().limit = TRY_CTX(parseMemoryBytes(*f.memory), "--memory");
  if (f.memorySwap) mem().swap = TRY_CTX(parseMemoryBytes(*f.memorySwap), "--memory-swap");
  if (f.memoryReservation)
    mem().reservation = TRY_CTX(parseMemoryBytes(*f.memoryReservation), "--memory-reservation");
  constexpr int64_t kMax = INT64_MAX;
  if (f.cpuQuota) cpu().quota = TRY(parseInt("--cpu-quota", *f.cpuQuota, -1, kMax));
  if (f.cpuPeriod) cpu().period = static_cast<uint64_t>(TRY(parseInt("--cpu-period", *f.cpuPeriod, 0, kMax)));
  if (f.cpuShares) cpu().shares = static_cast<uint64_t>(TRY(parseInt("--cpu-shares", *f.cpuShares, 0, kMax)));
  if (f.cpuRtPeriod)
    cpu().realtimePeriod = static_cast<uint64_t>(TRY(parseInt("--cpu-rt-period", *f.cpuRtPeriod, 0, kMax)));
  if (f.cpuRtRuntime) cpu().realtimeRuntime = TRY(parseInt("--cpu-rt-runtime", *f.cpuRtRuntime, -1, kMax));
  if (f.cpusetCpus) cpu().cpus = *f.cpusetCpus;
  if (f.cpusetMems) cpu().mems = *f.cpusetMems;
  // runc: 0 or -1 means unlimited.
  if (f.pidsLimit) {
    int64_t n = TRY(parseInt("--pids-limit", *f.pidsLimit, -1, kMax));
    r.pids = spec::PidsResources{n == 0 ? -1 : n};
  }
  if (f.blkioWeight) {
    auto w = TRY(parseInt("--blkio-weight", *f.blkioWeight, 10, 1000));
    if (!r.blockIO) r.blockIO.emplace();
    r.blockIO->weight = static_cast<uint16_t>(w);
  }
  return r;
}

Status updateContainer(const Store& store, const std::string& id, const spec::Resources& resources) {
  auto body = [&]() -> Status {
    // Bad input is refused before anything is written.
    if (auto v = spec::validateResources(resources); !v)
      return Error("linux.resources." + v.error().message());
    auto lock = TRY(store.lock(id));
    auto c = TRY(loadWithCgroup(store, id));
    if (c.status == ContainerStatus::Stopped) return wrongState(id, c.status, "running");
    return c.cgroup->setResources(resources);
  };
  return withCtx(body(), "update");
}

// ---- ps ----

Result<std::vector<pid_t>> containerPids(const Store& store, const std::string& id) {
  auto body = [&]() -> Result<std::vector<pid_t>> {
    auto c = TRY(loadWithCgroup(store, id));
    auto pids = c.cgroup->pids();
    // A stopped container's cgroup may already be gone: it has no processes.
    if (!pids && c.status == ContainerStatus::Stopped) return std::vector<pid_t>{};
    auto out = TRY(std::move(pids));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  };
  auto r = body();
  if (!r) return std::move(r).error().context("ps");
  return r;
}

Result<std::string> filterPsOutput(const std::string& psOutput, const std::vector<pid_t>& pids) {
  std::istringstream in(psOutput);
  std::string header;
  if (!std::getline(in, header)) return Error("ps printed nothing");
  std::istringstream hs(header);
  std::string word;
  int column = -1;
  for (int i = 0; hs >> word; ++i) {
    if (word == "PID") {
      column = i;
      break;
    }
  }
  if (column < 0) return Error("ps output has no PID column: " + header);
  const std::set<pid_t> wanted(pids.begin(), pids.end());
  std::string out = header + "\n";
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string field;
    for (int i = 0; i <= column && (ls >> field); ++i) {
    }
    char* end = nullptr;
    long pid = std::strtol(field.c_str(), &end, 10);
    if (!field.empty() && *end == '\0' && wanted.count(static_cast<pid_t>(pid))) out += line + "\n";
  }
  return out;
}

Result<std::string> psTable(const std::vector<pid_t>& pids, const std::vector<std::string>& psArgs) {
  std::vector<std::string> args = {"ps"};
  if (psArgs.empty())
    args.push_back("-ef");
  else
    args.insert(args.end(), psArgs.begin(), psArgs.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error::fromErrno("pipe");
  UniqueFd readEnd(p[0]), writeEnd(p[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, writeEnd.get(), STDOUT_FILENO);
  pid_t child = 0;
  int rc = ::posix_spawnp(&child, "ps", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Error("run ps", rc);
  writeEnd.reset();
  const std::string output = sys::readAll(readEnd.get(), "the output of ps").valueOr("");
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Error("ps exited with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128));
  return filterPsOutput(output, pids);
}

// ---- events ----

Result<cgroups::Stats> containerStats(const Store& store, const std::string& id) {
  auto body = [&]() -> Result<cgroups::Stats> {
    auto c = TRY(loadWithCgroup(store, id));
    if (c.status == ContainerStatus::Stopped) return wrongState(id, c.status, "running");
    return c.cgroup->stats();
  };
  auto r = body();
  if (!r) return std::move(r).error().context("events");
  return r;
}

namespace {

using nlohmann::ordered_json;

// runc's Go structs drop zero values of fields tagged omitempty.
void putNonZero(ordered_json& j, const char* key, uint64_t v) {
  if (v) j[key] = v;
}

ordered_json memoryEntryJson(const cgroups::MemoryEntry& e) {
  ordered_json j = ordered_json::object();
  j["limit"] = e.limit;
  putNonZero(j, "usage", e.usage);
  putNonZero(j, "max", e.max);
  j["failcnt"] = e.failcnt;
  return j;
}

ordered_json blkioEntriesJson(const std::vector<cgroups::BlkioEntry>& entries) {
  ordered_json a = ordered_json::array();
  for (const auto& e : entries) {
    ordered_json j = ordered_json::object();
    putNonZero(j, "major", e.major);
    putNonZero(j, "minor", e.minor);
    if (!e.op.empty()) j["op"] = e.op;
    putNonZero(j, "value", e.value);
    a.push_back(std::move(j));
  }
  return a;
}

ordered_json statsJson(const cgroups::Stats& s) {
  ordered_json usage = ordered_json::object();
  putNonZero(usage, "total", s.cpu.usage.total);
  if (!s.cpu.usage.percpu.empty()) usage["percpu"] = s.cpu.usage.percpu;
  usage["kernel"] = s.cpu.usage.kernel;
  usage["user"] = s.cpu.usage.user;
  ordered_json throttling = ordered_json::object();
  putNonZero(throttling, "periods", s.cpu.throttling.periods);
  putNonZero(throttling, "throttledPeriods", s.cpu.throttling.throttledPeriods);
  putNonZero(throttling, "throttledTime", s.cpu.throttling.throttledTime);

  ordered_json memory = ordered_json::object();
  putNonZero(memory, "cache", s.memory.cache);
  memory["usage"] = memoryEntryJson(s.memory.usage);
  memory["swap"] = memoryEntryJson(s.memory.swap);
  memory["kernel"] = memoryEntryJson(s.memory.kernel);
  memory["kernelTCP"] = memoryEntryJson(s.memory.kernelTCP);
  if (!s.memory.raw.empty()) memory["raw"] = s.memory.raw;

  ordered_json pids = ordered_json::object();
  putNonZero(pids, "current", s.pids.current);
  putNonZero(pids, "limit", s.pids.limit);

  ordered_json blkio = ordered_json::object();
  if (!s.blkio.ioServiceBytesRecursive.empty())
    blkio["ioServiceBytesRecursive"] = blkioEntriesJson(s.blkio.ioServiceBytesRecursive);
  if (!s.blkio.ioServicedRecursive.empty())
    blkio["ioServicedRecursive"] = blkioEntriesJson(s.blkio.ioServicedRecursive);

  ordered_json hugetlb = ordered_json::object();
  for (const auto& [size, h] : s.hugetlb) {
    ordered_json j = ordered_json::object();
    putNonZero(j, "usage", h.usage);
    putNonZero(j, "max", h.max);
    j["failcnt"] = h.failcnt;
    hugetlb[size] = std::move(j);
  }
  return ordered_json{{"cpu", {{"usage", usage}, {"throttling", throttling}}},
                      {"memory", memory},
                      {"pids", pids},
                      {"blkio", blkio},
                      {"hugetlb", hugetlb}};
}

// The kernel's count of OOM kills in the container's memory cgroup (v1
// memory.oom_control, v2 memory.events); nullopt when it cannot be read.
std::optional<uint64_t> oomKills(const cgroups::Manager& cg) {
  std::string dir = cg.pathFor("memory");
  if (dir.empty()) dir = cg.pathFor("unified");
  if (dir.empty()) return std::nullopt;
  for (const char* file : {"/memory.events", "/memory.oom_control"}) {
    std::ifstream in(dir + file);
    std::string key;
    uint64_t value = 0;
    while (in >> key >> value)
      if (key == "oom_kill") return value;
  }
  return std::nullopt;
}

}  // namespace

std::string statsEventJson(const std::string& id, const cgroups::Stats& stats) {
  ordered_json j{{"type", "stats"}, {"id", id}, {"data", statsJson(stats)}};
  return j.dump();
}

std::string oomEventJson(const std::string& id) { return ordered_json{{"type", "oom"}, {"id", id}}.dump(); }

Status streamEvents(const Store& store, const std::string& id, const EventsOptions& opts,
                    const std::function<void(const std::string&)>& emit) {
  auto body = [&]() -> Status {
    auto c = TRY(loadWithCgroup(store, id));
    if (c.status == ContainerStatus::Stopped) return wrongState(id, c.status, "running");
    if (opts.statsOnce) {
      emit(statsEventJson(id, TRY(c.cgroup->stats())));
      return {};
    }
    // Polled rather than notified (v1 eventfd, v2 inotify): one loop serves
    // both versions, and 100 ms is well below any stats interval.
    const auto tick = std::chrono::milliseconds(100);
    std::optional<uint64_t> lastOom = oomKills(*c.cgroup);
    auto nextStats = Clock::now();
    for (;;) {
      auto oom = oomKills(*c.cgroup);
      if (oom && (!lastOom || *oom > *lastOom)) emit(oomEventJson(id));
      if (oom) lastOom = oom;
      auto st = store.load(id);
      if (!st || currentStatus(*st, store.dir(id)) == ContainerStatus::Stopped) return {};
      if (Clock::now() >= nextStats) {
        auto stats = c.cgroup->stats();
        if (stats) emit(statsEventJson(id, *stats));
        nextStats += opts.interval;
      }
      std::this_thread::sleep_for(tick);
    }
  };
  return withCtx(body(), "events");
}

Result<std::chrono::milliseconds> parseInterval(const std::string& value) {
  // Go's time.ParseDuration subset: a sequence of <number><unit>.
  const Error bad("--interval: invalid duration \"" + value + "\" (e.g. 5s, 500ms, 1m)");
  double total = 0;
  size_t i = 0;
  if (value.empty()) return bad;
  while (i < value.size()) {
    size_t start = i;
    while (i < value.size() && (std::isdigit(static_cast<unsigned char>(value[i])) || value[i] == '.')) ++i;
    if (i == start) return bad;
    double n = std::strtod(value.substr(start, i - start).c_str(), nullptr);
    size_t u = i;
    while (i < value.size() && std::isalpha(static_cast<unsigned char>(value[i]))) ++i;
    std::string unit = value.substr(u, i - u);
    double ms;
    if (unit == "ns") ms = 1e-6;
    else if (unit == "us" || unit == "µs") ms = 1e-3;
    else if (unit == "ms") ms = 1;
    else if (unit == "s") ms = 1000;
    else if (unit == "m") ms = 60000;
    else if (unit == "h") ms = 3600000;
    else return bad;
    total += n * ms;
  }
  if (total < 1) return Error("--interval: must be at least 1ms, got \"" + value + "\"");
  return std::chrono::milliseconds(static_cast<int64_t>(total));
}

}  // namespace berth::container
