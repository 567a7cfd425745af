// The only translation unit of the spec module that includes nlohmann::json
// (it is slow to compile; headers expose only the model).
//
// Structure: one small reader per model struct, each taking the JSON value and
// its JSON path. A reader that finds a problem throws a ParseFailure, which
// never leaves this file: the public entry points catch it (and every
// nlohmann exception) and return an Error. Threading Result<T> through ~150
// field reads would triple the code without making any error clearer.
#include "spec/parse.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/syscalls.hpp"

namespace berth::spec {
namespace {

using nlohmann::json;

struct ParseFailure {
  std::string path;
  std::string problem;
};

[[noreturn]] void fail(const std::string& path, std::string problem) {
  throw ParseFailure{path, std::move(problem)};
}

[[noreturn]] void typeError(const json& v, const std::string& path, std::string_view expected) {
  fail(path, "expected " + std::string(expected) + ", got " + v.type_name());
}

std::string joinKey(const std::string& base, std::string_view key) {
  if (base.empty()) return std::string(key);
  return base + "." + std::string(key);
}

std::string joinIndex(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

// Map keys often contain dots ("net.ipv4.ip_forward"), so they are quoted to
// keep the path unambiguous: linux.sysctl["net.ipv4.ip_forward"].
std::string joinMapKey(const std::string& base, const std::string& key) {
  return base + "[\"" + key + "\"]";
}

template <typename I>
constexpr const char* intName() {
  if constexpr (std::is_same_v<I, uint16_t>) return "uint16";
  else if constexpr (std::is_same_v<I, uint32_t>) return "uint32";
  else if constexpr (std::is_same_v<I, uint64_t>) return "uint64";
  else if constexpr (std::is_same_v<I, int32_t>) return "int32";
  else if constexpr (std::is_same_v<I, int64_t>) return "int64";
  else return "integer";
}

// Range-checked conversion into the model's integer type. Fractional numbers
// are rejected like Go's decoder does (runc would refuse them too).
template <typename I>
I toInt(const json& v, const std::string& path) {
  if (v.is_number_float()) fail(path, std::string("expected ") + intName<I>() + ", got " + v.dump());
  if (!v.is_number_integer()) typeError(v, path, intName<I>());
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<I>::max()))
      fail(path, std::to_string(u) + " is out of range for " + intName<I>());
    return static_cast<I>(u);
  }
  auto s = v.get<int64_t>();
  if constexpr (std::is_unsigned_v<I>) {
    if (s < 0) fail(path, std::string("must not be negative, got ") + std::to_string(s));
    if (static_cast<uint64_t>(s) > static_cast<uint64_t>(std::numeric_limits<I>::max()))
      fail(path, std::to_string(s) + " is out of range for " + intName<I>());
  } else {
    if (s < static_cast<int64_t>(std::numeric_limits<I>::min()) ||
        s > static_cast<int64_t>(std::numeric_limits<I>::max()))
      fail(path, std::to_string(s) + " is out of range for " + intName<I>());
  }
  return static_cast<I>(s);
}

std::string toStr(const json& v, const std::string& path) {
  if (!v.is_string()) typeError(v, path, "string");
  return v.get<std::string>();
}

bool toBool(const json& v, const std::string& path) {
  if (!v.is_boolean()) typeError(v, path, "boolean");
  return v.get<bool>();
}

// A JSON object with its path. JSON null counts as absent, as in Go's decoder
// (runc reads `"hooks": null` as no hooks).
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) typeError(j_, path_, "object");
  }

  const std::string& path() const { return path_; }
  std::string sub(std::string_view key) const { return joinKey(path_, key); }

  const json* get(std::string_view key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  const json& need(std::string_view key) const {
    const json* v = get(key);
    if (v == nullptr) fail(sub(key), "required field missing");
    return *v;
  }

  std::string str(std::string_view key) const { return toStr(need(key), sub(key)); }
  std::optional<std::string> optStr(std::string_view key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    return toStr(*v, sub(key));
  }
  bool flag(std::string_view key, bool dflt = false) const {
    const json* v = get(key);
    return v == nullptr ? dflt : toBool(*v, sub(key));
  }
  std::optional<bool> optBool(std::string_view key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    return toBool(*v, sub(key));
  }
  template <typename I>
  I integer(std::string_view key) const {
    return toInt<I>(need(key), sub(key));
  }
  template <typename I>
  std::optional<I> optInt(std::string_view key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    return toInt<I>(*v, sub(key));
  }
  template <typename I>
  I intOr(std::string_view key, I dflt) const {
    return optInt<I>(key).value_or(dflt);
  }

  // Arrays: absent -> empty. `f(const json&, const std::string& path)`.
  template <typename F>
  auto list(std::string_view key, F f) const {
    using T = std::invoke_result_t<F, const json&, const std::string&>;
    std::vector<T> out;
    const json* v = get(key);
    if (v == nullptr) return out;
    std::string p = sub(key);
    if (!v->is_array()) typeError(*v, p, "array");
    out.reserve(v->size());
    for (size_t i = 0; i < v->size(); ++i) out.push_back(f((*v)[i], joinIndex(p, i)));
    return out;
  }
  std::vector<std::string> strings(std::string_view key) const { return list(key, toStr); }
  std::optional<std::vector<std::string>> optStrings(std::string_view key) const {
    if (get(key) == nullptr) return std::nullopt;
    return strings(key);
  }
  template <typename F>
  auto objects(std::string_view key, F f) const {
    return list(key, [&](const json& v, const std::string& p) { return f(Obj(v, p)); });
  }

  // Nested object: absent -> nullopt. `f(const Obj&)`.
  template <typename F>
  auto optObj(std::string_view key, F f) const -> std::optional<std::invoke_result_t<F, const Obj&>> {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    return f(Obj(*v, sub(key)));
  }

  // String-keyed map: absent -> empty. `f(const json&, const std::string& path)`.
  template <typename F>
  auto map(std::string_view key, F f) const {
    using T = std::invoke_result_t<F, const json&, const std::string&>;
    std::map<std::string, T> out;
    const json* v = get(key);
    if (v == nullptr) return out;
    std::string p = sub(key);
    if (!v->is_object()) typeError(*v, p, "object");
    for (auto it = v->begin(); it != v->end(); ++it) out.emplace(it.key(), f(it.value(), joinMapKey(p, it.key())));
    return out;
  }

 private:
  const json& j_;
  std::string path_;
};

// ---- config.md ----

IdMapping readIdMapping(const Obj& o) {
  return IdMapping{o.integer<uint32_t>("containerID"), o.integer<uint32_t>("hostID"),
                   o.integer<uint32_t>("size")};
}

Mount readMount(const Obj& o) {
  Mount m;
  m.destination = o.str("destination");
  m.type = o.optStr("type");
  m.source = o.optStr("source");
  m.options = o.strings("options");
  m.uidMappings = o.objects("uidMappings", readIdMapping);
  m.gidMappings = o.objects("gidMappings", readIdMapping);
  return m;
}

Root readRoot(const Obj& o) { return Root{o.str("path"), o.flag("readonly")}; }

Hook readHook(const Obj& o) {
  Hook h;
  h.path = o.str("path");
  h.args = o.strings("args");
  h.env = o.strings("env");
  h.timeout = o.optInt<int>("timeout");
  return h;
}

Hooks readHooks(const Obj& o) {
  Hooks h;
  h.prestart = o.objects("prestart", readHook);
  h.createRuntime = o.objects("createRuntime", readHook);
  h.createContainer = o.objects("createContainer", readHook);
  h.startContainer = o.objects("startContainer", readHook);
  h.poststart = o.objects("poststart", readHook);
  h.poststop = o.objects("poststop", readHook);
  return h;
}

// The schema does not require uid/gid (config.md does); Go's decoder reads an
// absent one as 0, and so do we, so `exec --process` files from other tools work.
User readUser(const Obj& o) {
  User u;
  u.uid = o.intOr<uint32_t>("uid", 0);
  u.gid = o.intOr<uint32_t>("gid", 0);
  u.umask = o.optInt<uint32_t>("umask");
  u.additionalGids = o.list("additionalGids", toInt<uint32_t>);
  u.username = o.optStr("username");
  return u;
}

Capabilities readCapabilities(const Obj& o) {
  Capabilities c;
  c.bounding = o.optStrings("bounding");
  c.effective = o.optStrings("effective");
  c.inheritable = o.optStrings("inheritable");
  c.permitted = o.optStrings("permitted");
  c.ambient = o.optStrings("ambient");
  return c;
}

Rlimit readRlimit(const Obj& o) {
  return Rlimit{o.str("type"), o.integer<uint64_t>("hard"), o.integer<uint64_t>("soft")};
}

Scheduler readScheduler(const Obj& o) {
  Scheduler s;
  s.policy = o.str("policy");
  s.nice = o.optInt<int32_t>("nice");
  s.priority = o.optInt<int32_t>("priority");
  s.flags = o.strings("flags");
  s.runtime = o.optInt<uint64_t>("runtime");
  s.deadline = o.optInt<uint64_t>("deadline");
  s.period = o.optInt<uint64_t>("period");
  return s;
}

Process readProcess(const Obj& o) {
  Process p;
  p.terminal = o.flag("terminal");
  p.consoleSize = o.optObj("consoleSize", [](const Obj& c) {
    return ConsoleSize{c.integer<uint32_t>("height"), c.integer<uint32_t>("width")};
  });
  if (auto u = o.optObj("user", readUser)) p.user = std::move(*u);
  p.args = o.strings("args");
  p.commandLine = o.optStr("commandLine");
  p.env = o.strings("env");
  p.cwd = o.str("cwd");
  p.capabilities = o.optObj("capabilities", readCapabilities);
  p.rlimits = o.objects("rlimits", readRlimit);
  p.noNewPrivileges = o.flag("noNewPrivileges");
  p.apparmorProfile = o.optStr("apparmorProfile");
  p.oomScoreAdj = o.optInt<int>("oomScoreAdj");
  p.selinuxLabel = o.optStr("selinuxLabel");
  p.ioPriority = o.optObj("ioPriority", [](const Obj& c) {
    return IoPriority{c.str("class"), c.integer<int>("priority")};
  });
  p.scheduler = o.optObj("scheduler", readScheduler);
  p.execCPUAffinity = o.optObj("execCPUAffinity", [](const Obj& c) {
    return ExecCpuAffinity{c.optStr("initial"), c.optStr("final")};
  });
  return p;
}

// ---- config-linux.md: resources ----

DeviceCgroup readDeviceCgroup(const Obj& o) {
  DeviceCgroup d;
  d.allow = toBool(o.need("allow"), o.sub("allow"));
  d.type = o.optStr("type");
  d.major = o.optInt<int64_t>("major");
  d.minor = o.optInt<int64_t>("minor");
  d.access = o.optStr("access");
  return d;
}

MemoryResources readMemory(const Obj& o) {
  MemoryResources m;
  m.limit = o.optInt<int64_t>("limit");
  m.reservation = o.optInt<int64_t>("reservation");
  m.swap = o.optInt<int64_t>("swap");
  m.kernel = o.optInt<int64_t>("kernel");
  m.kernelTCP = o.optInt<int64_t>("kernelTCP");
  m.swappiness = o.optInt<uint64_t>("swappiness");
  m.disableOOMKiller = o.optBool("disableOOMKiller");
  m.useHierarchy = o.optBool("useHierarchy");
  m.checkBeforeUpdate = o.optBool("checkBeforeUpdate");
  return m;
}

CpuResources readCpu(const Obj& o) {
  CpuResources c;
  c.shares = o.optInt<uint64_t>("shares");
  c.quota = o.optInt<int64_t>("quota");
  c.burst = o.optInt<uint64_t>("burst");
  c.period = o.optInt<uint64_t>("period");
  c.realtimeRuntime = o.optInt<int64_t>("realtimeRuntime");
  c.realtimePeriod = o.optInt<uint64_t>("realtimePeriod");
  c.cpus = o.optStr("cpus");
  c.mems = o.optStr("mems");
  c.idle = o.optInt<int64_t>("idle");
  return c;
}

BlockIoDeviceWeight readWeightDevice(const Obj& o) {
  BlockIoDeviceWeight w;
  w.major = o.integer<int64_t>("major");
  w.minor = o.integer<int64_t>("minor");
  w.weight = o.optInt<uint16_t>("weight");
  w.leafWeight = o.optInt<uint16_t>("leafWeight");
  return w;
}

BlockIoDeviceThrottle readThrottle(const Obj& o) {
  return BlockIoDeviceThrottle{o.integer<int64_t>("major"), o.integer<int64_t>("minor"),
                               o.integer<uint64_t>("rate")};
}

BlockIoResources readBlockIo(const Obj& o) {
  BlockIoResources b;
  b.weight = o.optInt<uint16_t>("weight");
  b.leafWeight = o.optInt<uint16_t>("leafWeight");
  b.weightDevice = o.objects("weightDevice", readWeightDevice);
  b.throttleReadBpsDevice = o.objects("throttleReadBpsDevice", readThrottle);
  b.throttleWriteBpsDevice = o.objects("throttleWriteBpsDevice", readThrottle);
  b.throttleReadIOPSDevice = o.objects("throttleReadIOPSDevice", readThrottle);
  b.throttleWriteIOPSDevice = o.objects("throttleWriteIOPSDevice", readThrottle);
  return b;
}

NetworkResources readNetwork(const Obj& o) {
  NetworkResources n;
  n.classID = o.optInt<uint32_t>("classID");
  n.priorities = o.objects("priorities", [](const Obj& p) {
    return InterfacePriority{p.str("name"), p.integer<uint32_t>("priority")};
  });
  return n;
}

Resources readResources(const Obj& o) {
  Resources r;
  r.devices = o.objects("devices", readDeviceCgroup);
  r.memory = o.optObj("memory", readMemory);
  r.cpu = o.optObj("cpu", readCpu);
  // runtime-spec 1.3 makes pids.limit optional but the schema still requires
  // it, and the model has no "absent" for it: requiring it keeps an omitted
  // limit from silently becoming a limit of 0 tasks.
  r.pids = o.optObj("pids", [](const Obj& p) { return PidsResources{p.integer<int64_t>("limit")}; });
  r.blockIO = o.optObj("blockIO", readBlockIo);
  r.hugepageLimits = o.objects("hugepageLimits", [](const Obj& h) {
    return HugepageLimit{h.str("pageSize"), h.integer<uint64_t>("limit")};
  });
  r.network = o.optObj("network", readNetwork);
  r.rdma = o.map("rdma", [](const json& v, const std::string& p) {
    Obj e(v, p);
    return RdmaLimit{e.optInt<uint32_t>("hcaHandles"), e.optInt<uint32_t>("hcaObjects")};
  });
  r.unified = o.map("unified", toStr);
  return r;
}

// ---- config-linux.md: the rest ----

SeccompArg readSeccompArg(const Obj& o) {
  SeccompArg a;
  a.index = o.integer<uint32_t>("index");
  a.value = o.integer<uint64_t>("value");
  a.valueTwo = o.optInt<uint64_t>("valueTwo");
  a.op = o.str("op");
  return a;
}

SeccompSyscall readSeccompSyscall(const Obj& o) {
  SeccompSyscall s;
  o.need("names");
  s.names = o.strings("names");
  s.action = o.str("action");
  s.errnoRet = o.optInt<uint32_t>("errnoRet");
  s.args = o.objects("args", readSeccompArg);
  return s;
}

Seccomp readSeccomp(const Obj& o) {
  Seccomp s;
  s.defaultAction = o.str("defaultAction");
  s.defaultErrnoRet = o.optInt<uint32_t>("defaultErrnoRet");
  s.architectures = o.strings("architectures");
  s.flags = o.strings("flags");
  s.listenerPath = o.optStr("listenerPath");
  s.listenerMetadata = o.optStr("listenerMetadata");
  s.syscalls = o.objects("syscalls", readSeccompSyscall);
  return s;
}

// major/minor are required unless the type is "p" (fifo): the model cannot
// tell 0 from absent, so the check has to happen here.
Device readDevice(const Obj& o) {
  Device d;
  d.type = o.str("type");
  d.path = o.str("path");
  if (d.type == "p") {
    d.major = o.intOr<int64_t>("major", 0);
    d.minor = o.intOr<int64_t>("minor", 0);
  } else {
    d.major = o.integer<int64_t>("major");
    d.minor = o.integer<int64_t>("minor");
  }
  d.fileMode = o.optInt<uint32_t>("fileMode");
  d.uid = o.optInt<uint32_t>("uid");
  d.gid = o.optInt<uint32_t>("gid");
  return d;
}

IntelRdt readIntelRdt(const Obj& o) {
  IntelRdt r;
  r.closID = o.optStr("closID");
  r.schemata = o.strings("schemata");
  r.l3CacheSchema = o.optStr("l3CacheSchema");
  r.memBwSchema = o.optStr("memBwSchema");
  r.enableMonitoring = o.optBool("enableMonitoring");
  return r;
}

Linux readLinux(const Obj& o) {
  Linux l;
  l.namespaces = o.objects("namespaces", [](const Obj& n) { return Namespace{n.str("type"), n.optStr("path")}; });
  l.uidMappings = o.objects("uidMappings", readIdMapping);
  l.gidMappings = o.objects("gidMappings", readIdMapping);
  l.timeOffsets = o.map("timeOffsets", [](const json& v, const std::string& p) {
    Obj t(v, p);
    return TimeOffset{t.intOr<int64_t>("secs", 0), t.intOr<uint32_t>("nanosecs", 0)};
  });
  l.devices = o.objects("devices", readDevice);
  l.netDevices = o.map("netDevices", [](const json& v, const std::string& p) {
    return NetDevice{Obj(v, p).optStr("name")};
  });
  l.cgroupsPath = o.optStr("cgroupsPath");
  l.resources = o.optObj("resources", readResources);
  l.rootfsPropagation = o.optStr("rootfsPropagation");
  l.seccomp = o.optObj("seccomp", readSeccomp);
  l.sysctl = o.map("sysctl", toStr);
  l.maskedPaths = o.strings("maskedPaths");
  l.readonlyPaths = o.strings("readonlyPaths");
  l.mountLabel = o.optStr("mountLabel");
  l.intelRdt = o.optObj("intelRdt", readIntelRdt);
  l.memoryPolicy = o.optObj("memoryPolicy", [](const Obj& m) {
    return MemoryPolicy{m.str("mode"), m.optStr("nodes"), m.strings("flags")};
  });
  l.personality = o.optObj("personality", [](const Obj& p) {
    return Personality{p.str("domain"), p.strings("flags")};
  });
  return l;
}

Spec readSpec(const Obj& o) {
  Spec s;
  s.ociVersion = o.str("ociVersion");
  s.root = o.optObj("root", readRoot);
  s.mounts = o.objects("mounts", readMount);
  s.process = o.optObj("process", readProcess);
  s.hostname = o.optStr("hostname");
  s.domainname = o.optStr("domainname");
  s.hooks = o.optObj("hooks", readHooks);
  s.annotations = o.map("annotations", toStr);
  s.linux = o.optObj("linux", readLinux);
  return s;
}

// nlohmann reports a byte offset (1-based: the byte it choked on); people want
// line and column, both 1-based like every editor's.
std::string lineColumn(std::string_view text, size_t byte) {
  size_t pos = byte == 0 ? 0 : byte - 1;
  if (pos > text.size()) pos = text.size();
  size_t line = 1;
  size_t lineStart = 0;
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      lineStart = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(pos - lineStart + 1);
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line
// 1, column 2: syntax error ..."; keep only the part after the position.
std::string parseErrorDetail(const json::parse_error& e) {
  std::string what = e.what();
  size_t at = what.find("column ");
  if (at != std::string::npos) {
    size_t colon = what.find(": ", at);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  return what;
}

template <typename T, typename Reader>
Result<T> parseDocument(std::string_view text, Reader reader) {
  try {
    json doc = json::parse(text.begin(), text.end());
    return reader(Obj(doc, ""));
  } catch (const ParseFailure& f) {
    if (f.path.empty()) return Error(f.problem);
    return Error(f.path + ": " + f.problem);
  } catch (const json::parse_error& e) {
    return Error("malformed JSON at " + lineColumn(text, e.byte) + ": " + parseErrorDetail(e));
  } catch (const std::exception& e) {
    // Anything else from the JSON library (or bad_alloc) still must not escape.
    return Error(std::string("unexpected JSON error: ") + e.what());
  }
}

}  // namespace

Result<Spec> parseConfig(std::string_view json) {
  auto r = parseDocument<Spec>(json, readSpec);
  if (!r.ok()) return std::move(r).error().context("config.json");
  return r;
}

Result<Spec> loadConfig(const std::string& bundleDir) {
  std::string path = bundleDir + "/config.json";
  auto text = sys::readFile(path);
  if (!text.ok()) return std::move(text).error().context("load " + path);
  return parseConfig(*text);
}

Result<Process> parseProcess(std::string_view json) { return parseDocument<Process>(json, readProcess); }

Result<Resources> parseResources(std::string_view json) {
  return parseDocument<Resources>(json, readResources);
}

}  // namespace berth::spec
