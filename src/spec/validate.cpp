// Each check reads one part of the Spec and appends "<json.path>: <problem>".
// Checks run in config order so the first problem reported is the first one
// a reader of config.json would meet.
#include "spec/validate.hpp"

#include <set>
#include <string_view>

#include "spec/known.hpp"

namespace berth::spec {
namespace {

class Problems {
 public:
  void add(const std::string& path, const std::string& problem) { list_.push_back(path + ": " + problem); }
  std::vector<std::string> take() { return std::move(list_); }

 private:
  std::vector<std::string> list_;
};

std::string at(const std::string& base, size_t i) { return base + "[" + std::to_string(i) + "]"; }
std::string key(const std::string& base, const std::string& k) { return base + "[\"" + k + "\"]"; }
std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool isAbsolute(const std::string& p) { return !p.empty() && p[0] == '/'; }

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "0-3,7": comma-separated numbers or ranges (cpuset and nodemask syntax).
bool isIdList(std::string_view s) {
  if (s.empty()) return false;
  while (true) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      if (!allDigits(item)) return false;
    } else if (!allDigits(item.substr(0, dash)) || !allDigits(item.substr(dash + 1))) {
      return false;
    }
    if (comma == std::string_view::npos) return true;
    s.remove_prefix(comma + 1);
  }
}

const Namespace* findNamespace(const Spec& s, std::string_view type) {
  if (!s.linux) return nullptr;
  for (const auto& ns : s.linux->namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

bool hasNamespace(const Spec& s, std::string_view type) { return findNamespace(s, type) != nullptr; }

// ---- config.md ----

// SemVer with major version 1: "1.0.2-dev", "1.3.0".
void checkOciVersion(const Spec& s, Problems& p) {
  if (s.ociVersion.empty()) return p.add("ociVersion", "required field missing");
  std::string_view v = s.ociVersion;
  size_t end = v.find_first_of("-+");
  std::string_view core = v.substr(0, end);
  size_t d1 = core.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : core.find('.', d1 + 1);
  bool semver = d2 != std::string_view::npos && allDigits(core.substr(0, d1)) &&
                allDigits(core.substr(d1 + 1, d2 - d1 - 1)) && allDigits(core.substr(d2 + 1));
  if (!semver) return p.add("ociVersion", quoted(v) + " is not a SemVer version");
  if (core.substr(0, d1) != "1") p.add("ociVersion", "unsupported version " + quoted(v) + " (berth supports 1.x)");
}

void checkRoot(const Spec& s, Problems& p) {
  if (!s.root) return p.add("root", "required field missing");
  if (s.root->path.empty()) p.add("root.path", "must not be empty");
}

bool hasOption(const Mount& m, std::string_view opt) {
  for (const auto& o : m.options)
    if (o == opt) return true;
  return false;
}

void checkMappings(const std::vector<IdMapping>& maps, const std::string& path, Problems& p) {
  for (size_t i = 0; i < maps.size(); ++i)
    if (maps[i].size == 0) p.add(at(path, i) + ".size", "must be greater than 0");
}

// Relative destinations are deprecated but allowed on Linux (taken relative
// to "/"), so only an empty one is an error.
void checkMounts(const Spec& s, Problems& p) {
  for (size_t i = 0; i < s.mounts.size(); ++i) {
    const Mount& m = s.mounts[i];
    std::string path = at("mounts", i);
    if (m.destination.empty()) p.add(path + ".destination", "must not be empty");
    if (m.uidMappings.empty() != m.gidMappings.empty())
      p.add(path, "uidMappings and gidMappings must be given together");
    checkMappings(m.uidMappings, path + ".uidMappings", p);
    checkMappings(m.gidMappings, path + ".gidMappings", p);
    bool idmap = hasOption(m, "idmap") || hasOption(m, "ridmap");
    if (idmap && m.uidMappings.empty() && !hasNamespace(s, "user"))
      p.add(path + ".options", "idmap needs uidMappings/gidMappings or a user namespace");
  }
}

void checkCapabilities(const Capabilities& c, Problems& p) {
  auto checkSet = [&](const std::optional<std::vector<std::string>>& set, const char* name) {
    if (!set) return;
    std::string path = std::string("process.capabilities.") + name;
    for (size_t i = 0; i < set->size(); ++i)
      if (!contains(knownCapabilities(), (*set)[i]))
        p.add(at(path, i), "unknown capability " + quoted((*set)[i]));
  };
  checkSet(c.bounding, "bounding");
  checkSet(c.effective, "effective");
  checkSet(c.inheritable, "inheritable");
  checkSet(c.permitted, "permitted");
  checkSet(c.ambient, "ambient");
}

void checkRlimits(const Process& proc, Problems& p) {
  std::set<std::string> seen;
  for (size_t i = 0; i < proc.rlimits.size(); ++i) {
    const Rlimit& r = proc.rlimits[i];
    std::string path = at("process.rlimits", i);
    if (!contains(knownRlimitTypes(), r.type)) p.add(path + ".type", "unknown rlimit " + quoted(r.type));
    if (!seen.insert(r.type).second) p.add(path + ".type", "duplicate rlimit " + quoted(r.type));
    if (r.soft > r.hard) p.add(path, "soft limit " + std::to_string(r.soft) + " exceeds hard limit " +
                                         std::to_string(r.hard));
  }
}

void checkScheduler(const Scheduler& sch, Problems& p) {
  if (!contains(knownSchedulerPolicies(), sch.policy))
    p.add("process.scheduler.policy", "unknown policy " + quoted(sch.policy));
  for (size_t i = 0; i < sch.flags.size(); ++i)
    if (!contains(knownSchedulerFlags(), sch.flags[i]))
      p.add(at("process.scheduler.flags", i), "unknown flag " + quoted(sch.flags[i]));
  if (sch.nice && (*sch.nice < -20 || *sch.nice > 19)) p.add("process.scheduler.nice", "must be in [-20, 19]");
}

// consoleSize without terminal is not checked: the spec says to ignore it.
void checkProcess(const Spec& s, Problems& p) {
  if (!s.process) return;
  const Process& proc = *s.process;
  if (proc.args.empty()) p.add("process.args", "must have at least one entry");
  else if (proc.args[0].empty()) p.add("process.args[0]", "must not be empty");
  if (!isAbsolute(proc.cwd)) p.add("process.cwd", "must be an absolute path, got " + quoted(proc.cwd));
  for (size_t i = 0; i < proc.env.size(); ++i) {
    size_t eq = proc.env[i].find('=');
    if (eq == std::string::npos || eq == 0)
      p.add(at("process.env", i), quoted(proc.env[i]) + " is not of the form KEY=value");
  }
  if (proc.user.umask && *proc.user.umask > 0777) p.add("process.user.umask", "must be at most 0777");
  if (proc.capabilities) checkCapabilities(*proc.capabilities, p);
  checkRlimits(proc, p);
  if (proc.oomScoreAdj && (*proc.oomScoreAdj < -1000 || *proc.oomScoreAdj > 1000))
    p.add("process.oomScoreAdj", std::to_string(*proc.oomScoreAdj) + " is outside [-1000, 1000]");
  if (proc.ioPriority) {
    if (!contains(knownIoPriorityClasses(), proc.ioPriority->ioClass))
      p.add("process.ioPriority.class", "unknown class " + quoted(proc.ioPriority->ioClass));
    if (proc.ioPriority->priority < 0 || proc.ioPriority->priority > 7)
      p.add("process.ioPriority.priority", "must be in [0, 7]");
  }
  if (proc.scheduler) checkScheduler(*proc.scheduler, p);
  if (proc.execCPUAffinity) {
    const auto& a = *proc.execCPUAffinity;
    if (a.initial && !isIdList(*a.initial)) p.add("process.execCPUAffinity.initial", "not a CPU list: " + quoted(*a.initial));
    if (a.final && !a.final->empty() && !isIdList(*a.final))
      p.add("process.execCPUAffinity.final", "not a CPU list: " + quoted(*a.final));
  }
}

// The spec lets a container share the host's UTS namespace; setting the
// hostname then would rename the host, which runc refuses and so do we.
void checkHostname(const Spec& s, Problems& p) {
  if (s.hostname && !s.hostname->empty() && !hasNamespace(s, "uts"))
    p.add("hostname", "requires a uts namespace");
  if (s.domainname && !s.domainname->empty() && !hasNamespace(s, "uts"))
    p.add("domainname", "requires a uts namespace");
}

void checkHooks(const Spec& s, Problems& p) {
  if (!s.hooks) return;
  const Hooks& h = *s.hooks;
  const std::vector<Hook>* kinds[] = {&h.prestart,       &h.createRuntime, &h.createContainer,
                                      &h.startContainer, &h.poststart,     &h.poststop};
  for (size_t k = 0; k < hookNames().size(); ++k) {
    for (size_t i = 0; i < kinds[k]->size(); ++i) {
      const Hook& hook = (*kinds[k])[i];
      std::string path = at("hooks." + hookNames()[k], i);
      if (!isAbsolute(hook.path)) p.add(path + ".path", "must be an absolute path, got " + quoted(hook.path));
      if (hook.timeout && *hook.timeout <= 0) p.add(path + ".timeout", "must be greater than 0");
    }
  }
}

void checkAnnotations(const Spec& s, Problems& p) {
  if (s.annotations.count("")) p.add("annotations", "keys must not be empty");
}

// ---- config-linux.md ----

void checkNamespaces(const Linux& l, Problems& p) {
  std::set<std::string> seen;
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& ns = l.namespaces[i];
    std::string path = at("linux.namespaces", i);
    if (!contains(knownNamespaceTypes(), ns.type)) p.add(path + ".type", "unknown namespace type " + quoted(ns.type));
    else if (!seen.insert(ns.type).second) p.add(path + ".type", "duplicate namespace " + quoted(ns.type));
    if (ns.path && !isAbsolute(*ns.path)) p.add(path + ".path", "must be an absolute path, got " + quoted(*ns.path));
  }
}

// runc's rule: mappings only with a user namespace, and a new user namespace
// only with mappings (without them every id inside is the overflow id).
void checkUserNamespace(const Spec& s, Problems& p) {
  const Linux& l = *s.linux;
  const Namespace* user = findNamespace(s, "user");
  bool mapped = !l.uidMappings.empty() || !l.gidMappings.empty();
  if (mapped && user == nullptr) p.add("linux.uidMappings", "id mappings require a user namespace");
  if (user != nullptr && !user->path) {
    if (l.uidMappings.empty()) p.add("linux.uidMappings", "a new user namespace needs uid mappings");
    if (l.gidMappings.empty()) p.add("linux.gidMappings", "a new user namespace needs gid mappings");
  }
  checkMappings(l.uidMappings, "linux.uidMappings", p);
  checkMappings(l.gidMappings, "linux.gidMappings", p);
}

// Offsets can only be written into a time namespace nobody has entered yet.
void checkTimeOffsets(const Spec& s, Problems& p) {
  const Linux& l = *s.linux;
  if (l.timeOffsets.empty()) return;
  const Namespace* time = findNamespace(s, "time");
  if (time == nullptr || time->path) p.add("linux.timeOffsets", "requires a new time namespace");
  for (const auto& [clock, off] : l.timeOffsets) {
    if (clock != "boottime" && clock != "monotonic")
      p.add(key("linux.timeOffsets", clock), "unknown clock (boottime or monotonic)");
    if (off.nanosecs >= 1000000000u) p.add(key("linux.timeOffsets", clock) + ".nanosecs", "must be below 1e9");
  }
}

void checkDevices(const Linux& l, Problems& p) {
  for (size_t i = 0; i < l.devices.size(); ++i) {
    const Device& d = l.devices[i];
    std::string path = at("linux.devices", i);
    if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
      p.add(path + ".type", "must be one of c, b, u, p; got " + quoted(d.type));
    if (!isAbsolute(d.path)) p.add(path + ".path", "must be an absolute path, got " + quoted(d.path));
    if (d.major < 0) p.add(path + ".major", "must not be negative");
    if (d.minor < 0) p.add(path + ".minor", "must not be negative");
  }
}

void checkNetDevices(const Spec& s, Problems& p) {
  for (const auto& [host, dev] : s.linux->netDevices) {
    std::string path = key("linux.netDevices", host);
    if (!hasNamespace(s, "network")) p.add(path, "requires a network namespace");
    auto badName = [](const std::string& n) {
      return n.empty() || n.size() > 15 || n == "." || n == ".." || n.find_first_of("/: \t\n") != std::string::npos;
    };
    if (badName(host)) p.add(path, "invalid interface name");
    if (dev.name && badName(*dev.name)) p.add(path + ".name", "invalid interface name " + quoted(*dev.name));
  }
}

void checkResources(const Resources& r, const std::string& base, Problems& p) {
  auto sub = [&](const char* k) { return base.empty() ? std::string(k) : base + "." + k; };
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const DeviceCgroup& d = r.devices[i];
    std::string path = at(sub("devices"), i);
    if (d.type && *d.type != "a" && *d.type != "c" && *d.type != "b")
      p.add(path + ".type", "must be one of a, c, b; got " + quoted(*d.type));
    if (d.access && d.access->find_first_not_of("rwm") != std::string::npos)
      p.add(path + ".access", "must be made of r, w, m; got " + quoted(*d.access));
  }
  if (r.memory && r.memory->swappiness && *r.memory->swappiness > 100)
    p.add(sub("memory") + ".swappiness", "must be in [0, 100]");
  if (r.cpu) {
    const CpuResources& c = *r.cpu;
    if (c.burst && c.quota && *c.quota > 0 && *c.burst > static_cast<uint64_t>(*c.quota))
      p.add(sub("cpu") + ".burst", "must not exceed quota");
    if (c.cpus && !c.cpus->empty() && !isIdList(*c.cpus)) p.add(sub("cpu") + ".cpus", "not a CPU list: " + quoted(*c.cpus));
    if (c.mems && !c.mems->empty() && !isIdList(*c.mems)) p.add(sub("cpu") + ".mems", "not a node list: " + quoted(*c.mems));
  }
  if (r.pids && r.pids->limit < -1) p.add(sub("pids") + ".limit", "must be -1 (unlimited) or at least 0");
  if (r.blockIO) {
    for (size_t i = 0; i < r.blockIO->weightDevice.size(); ++i) {
      const auto& w = r.blockIO->weightDevice[i];
      if (!w.weight && !w.leafWeight) p.add(at(sub("blockIO") + ".weightDevice", i), "needs weight or leafWeight");
    }
  }
  for (size_t i = 0; i < r.hugepageLimits.size(); ++i) {
    const std::string& size = r.hugepageLimits[i].pageSize;
    bool ok = size.size() >= 3 && size.back() == 'B' && std::string_view("KMGTP").find(size[size.size() - 2]) != std::string_view::npos &&
              allDigits(std::string_view(size).substr(0, size.size() - 2));
    if (!ok) p.add(at(sub("hugepageLimits"), i) + ".pageSize", "expected <size><K|M|G>B, got " + quoted(size));
  }
  for (const auto& [dev, lim] : r.rdma)
    if (!lim.hcaHandles && !lim.hcaObjects) p.add(key(sub("rdma"), dev), "needs hcaHandles or hcaObjects");
  // A key is a file name in the container's cgroup, never a path out of it.
  for (const auto& [file, value] : r.unified)
    if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..")
      p.add(key(sub("unified"), file), "must be a cgroup file name");
}

bool actionTakesErrno(const std::string& action) { return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE"; }

void checkSeccomp(const Seccomp& sc, Problems& p) {
  const std::string base = "linux.seccomp";
  bool notify = sc.defaultAction == "SCMP_ACT_NOTIFY";
  if (!contains(knownSeccompActions(), sc.defaultAction))
    p.add(base + ".defaultAction", "unknown action " + quoted(sc.defaultAction));
  if (sc.defaultErrnoRet && contains(knownSeccompActions(), sc.defaultAction) && !actionTakesErrno(sc.defaultAction))
    p.add(base + ".defaultErrnoRet", "not allowed with " + sc.defaultAction);
  for (size_t i = 0; i < sc.architectures.size(); ++i)
    if (!contains(knownSeccompArchs(), sc.architectures[i]))
      p.add(at(base + ".architectures", i), "unknown architecture " + quoted(sc.architectures[i]));
  for (size_t i = 0; i < sc.flags.size(); ++i)
    if (!contains(knownSeccompFlags(), sc.flags[i])) p.add(at(base + ".flags", i), "unknown flag " + quoted(sc.flags[i]));
  for (size_t i = 0; i < sc.syscalls.size(); ++i) {
    const SeccompSyscall& call = sc.syscalls[i];
    std::string path = at(base + ".syscalls", i);
    if (call.names.empty()) p.add(path + ".names", "must have at least one entry");
    for (size_t n = 0; n < call.names.size(); ++n)
      if (call.names[n].empty()) p.add(at(path + ".names", n), "must not be empty");
    if (!contains(knownSeccompActions(), call.action)) p.add(path + ".action", "unknown action " + quoted(call.action));
    if (call.errnoRet && contains(knownSeccompActions(), call.action) && !actionTakesErrno(call.action)) p.add(path + ".errnoRet", "not allowed with " + call.action);
    notify = notify || call.action == "SCMP_ACT_NOTIFY";
    for (size_t a = 0; a < call.args.size(); ++a) {
      const SeccompArg& arg = call.args[a];
      if (arg.index > 5) p.add(at(path + ".args", a) + ".index", "must be in [0, 5]");
      if (!contains(knownSeccompOperators(), arg.op)) p.add(at(path + ".args", a) + ".op", "unknown operator " + quoted(arg.op));
    }
  }
  if (sc.listenerMetadata && !sc.listenerPath) p.add(base + ".listenerMetadata", "requires listenerPath");
  if (notify && (!sc.listenerPath || sc.listenerPath->empty()))
    p.add(base + ".listenerPath", "required when SCMP_ACT_NOTIFY is used");
}

// Only sysctls that belong to a namespace the container owns may be set; the
// rest would change the host (runc's list).
const char* sysctlNamespace(const std::string& k) {
  if (startsWith(k, "net.")) return "network";
  if (startsWith(k, "kernel.msg") || k == "kernel.sem" || startsWith(k, "kernel.shm") || startsWith(k, "fs.mqueue."))
    return "ipc";
  if (k == "kernel.hostname" || k == "kernel.domainname") return "uts";
  return nullptr;
}

void checkSysctl(const Spec& s, Problems& p) {
  for (const auto& [k, v] : s.linux->sysctl) {
    const char* ns = sysctlNamespace(k);
    if (ns == nullptr) p.add(key("linux.sysctl", k), "not a namespaced sysctl");
    else if (!hasNamespace(s, ns)) p.add(key("linux.sysctl", k), std::string("requires a ") + ns + " namespace");
  }
}

bool hasDotDot(const std::string& path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0) return true;
    start = end + 1;
  }
  return false;
}

void checkPaths(const std::vector<std::string>& paths, const std::string& base, Problems& p) {
  for (size_t i = 0; i < paths.size(); ++i)
    if (!isAbsolute(paths[i])) p.add(at(base, i), "must be an absolute path, got " + quoted(paths[i]));
}

void checkMemoryPolicy(const MemoryPolicy& m, Problems& p) {
  if (!contains(knownMemoryPolicyModes(), m.mode)) p.add("linux.memoryPolicy.mode", "unknown mode " + quoted(m.mode));
  for (size_t i = 0; i < m.flags.size(); ++i)
    if (!contains(knownMemoryPolicyFlags(), m.flags[i])) p.add(at("linux.memoryPolicy.flags", i), "unknown flag " + quoted(m.flags[i]));
  bool nodes = m.nodes && !m.nodes->empty();
  if (nodes && !isIdList(*m.nodes)) p.add("linux.memoryPolicy.nodes", "not a node list: " + quoted(*m.nodes));
  if (nodes && (m.mode == "MPOL_DEFAULT" || m.mode == "MPOL_LOCAL"))
    p.add("linux.memoryPolicy.nodes", "must be empty with " + m.mode);
  if (!nodes && (m.mode == "MPOL_BIND" || m.mode == "MPOL_INTERLEAVE" || m.mode == "MPOL_WEIGHTED_INTERLEAVE" ||
                 m.mode == "MPOL_PREFERRED_MANY"))
    p.add("linux.memoryPolicy.nodes", "required with " + m.mode);
}

void checkIntelRdt(const IntelRdt& r, Problems& p) {
  if (r.memBwSchema && (!startsWith(*r.memBwSchema, "MB:") || r.memBwSchema->find('\n') != std::string::npos))
    p.add("linux.intelRdt.memBwSchema", "must start with \"MB:\" and have no newline");
  if (r.l3CacheSchema && r.l3CacheSchema->find('\n') != std::string::npos)
    p.add("linux.intelRdt.l3CacheSchema", "must not contain a newline");
  for (size_t i = 0; i < r.schemata.size(); ++i)
    if (r.schemata[i].find('\n') != std::string::npos) p.add(at("linux.intelRdt.schemata", i), "must not contain a newline");
}

void checkLinux(const Spec& s, Problems& p) {
  if (!s.linux) return;
  const Linux& l = *s.linux;
  checkNamespaces(l, p);
  checkUserNamespace(s, p);
  checkTimeOffsets(s, p);
  checkDevices(l, p);
  checkNetDevices(s, p);
  if (l.cgroupsPath && hasDotDot(*l.cgroupsPath)) p.add("linux.cgroupsPath", "must not contain \"..\"");
  if (l.resources) checkResources(*l.resources, "linux.resources", p);
  if (l.rootfsPropagation && !contains(knownRootfsPropagations(), *l.rootfsPropagation))
    p.add("linux.rootfsPropagation", "must be shared, slave, private or unbindable; got " + quoted(*l.rootfsPropagation));
  if (l.seccomp) checkSeccomp(*l.seccomp, p);
  checkSysctl(s, p);
  checkPaths(l.maskedPaths, "linux.maskedPaths", p);
  checkPaths(l.readonlyPaths, "linux.readonlyPaths", p);
  if (l.intelRdt) checkIntelRdt(*l.intelRdt, p);
  if (l.memoryPolicy) checkMemoryPolicy(*l.memoryPolicy, p);
  if (l.personality) {
    if (!contains(knownPersonalityDomains(), l.personality->domain))
      p.add("linux.personality.domain", "unknown domain " + quoted(l.personality->domain));
    if (!l.personality->flags.empty()) p.add("linux.personality.flags", "no flags are supported");
  }
}

}  // namespace

std::vector<std::string> validationErrors(const Spec& spec) {
  Problems p;
  checkOciVersion(spec, p);
  checkRoot(spec, p);
  checkMounts(spec, p);
  checkProcess(spec, p);
  checkHostname(spec, p);
  checkHooks(spec, p);
  checkAnnotations(spec, p);
  checkLinux(spec, p);
  return p.take();
}

Status validate(const Spec& spec) {
  std::vector<std::string> problems = validationErrors(spec);
  if (problems.empty()) return okStatus();
  return Error(problems.front()).context("config.json");
}

Status validateResources(const Resources& resources) {
  Problems p;
  checkResources(resources, "", p);
  std::vector<std::string> problems = p.take();
  if (problems.empty()) return okStatus();
  return Error(problems.front());
}

}  // namespace berth::spec
