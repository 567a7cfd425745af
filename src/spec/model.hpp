// The one in-memory model of an OCI runtime-spec 1.3 config.json (Linux).
//
// std::optional means "absent from the config"; the spec often gives absence a
// meaning different from an empty value (e.g. a missing capability set is
// empty, a missing linux.resources means "no limits"). Field names follow the
// JSON keys so the JSON path of any field is obvious from the code.
// This header has no behaviour; parse.hpp fills it, validate.hpp checks it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::spec {

inline constexpr const char* kOciVersion = "1.3.0";

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds, > 0
};

struct Hooks {
  std::vector<Hook> prestart;  // deprecated in the spec, still run (as runc does)
  std::vector<Hook> createRuntime;
  std::vector<Hook> createContainer;
  std::vector<Hook> startContainer;
  std::vector<Hook> poststart;
  std::vector<Hook> poststop;
};

struct IdMapping {
  uint32_t containerID = 0;
  uint32_t hostID = 0;
  uint32_t size = 0;
};

struct Mount {
  std::string destination;
  std::optional<std::string> type;
  std::optional<std::string> source;
  std::vector<std::string> options;
  std::vector<IdMapping> uidMappings;
  std::vector<IdMapping> gidMappings;
};

struct Root {
  std::string path;
  bool readonly = false;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additionalGids;
  std::optional<std::string> username;  // Windows only; ignored on Linux
};

struct Capabilities {
  // Absent sets are empty (runtime-spec: "a set absent from the config is empty").
  std::optional<std::vector<std::string>> bounding;
  std::optional<std::vector<std::string>> effective;
  std::optional<std::vector<std::string>> inheritable;
  std::optional<std::vector<std::string>> permitted;
  std::optional<std::vector<std::string>> ambient;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct IoPriority {
  std::string ioClass;  // JSON "class": IOPRIO_CLASS_RT|BE|IDLE
  int priority = 0;
};

struct Scheduler {
  std::string policy;  // SCHED_OTHER ...
  std::optional<int32_t> nice;
  std::optional<int32_t> priority;
  std::vector<std::string> flags;
  std::optional<uint64_t> runtime;
  std::optional<uint64_t> deadline;
  std::optional<uint64_t> period;
};

struct ExecCpuAffinity {
  std::optional<std::string> initial;
  std::optional<std::string> final;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> consoleSize;
  User user;
  std::vector<std::string> args;
  std::optional<std::string> commandLine;  // Windows only
  std::vector<std::string> env;
  std::string cwd;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool noNewPrivileges = false;
  std::optional<std::string> apparmorProfile;
  std::optional<int> oomScoreAdj;
  std::optional<std::string> selinuxLabel;
  std::optional<IoPriority> ioPriority;
  std::optional<Scheduler> scheduler;
  std::optional<ExecCpuAffinity> execCPUAffinity;
};

struct Namespace {
  std::string type;  // pid network mount ipc uts user cgroup time
  std::optional<std::string> path;
};

struct Device {
  std::string type;  // c b u p
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> fileMode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

// ---- linux.resources (cgroups) ----
struct DeviceCgroup {
  bool allow = false;
  std::optional<std::string> type;  // a c b
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::optional<std::string> access;  // rwm
};

struct MemoryResources {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;
  std::optional<int64_t> kernel;
  std::optional<int64_t> kernelTCP;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disableOOMKiller;
  std::optional<bool> useHierarchy;
  std::optional<bool> checkBeforeUpdate;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtimeRuntime;
  std::optional<uint64_t> realtimePeriod;
  std::optional<std::string> cpus;
  std::optional<std::string> mems;
  std::optional<int64_t> idle;
};

struct PidsResources {
  int64_t limit = 0;
};

struct BlockIoDeviceWeight {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leafWeight;
};

struct BlockIoDeviceThrottle {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;
};

struct BlockIoResources {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leafWeight;
  std::vector<BlockIoDeviceWeight> weightDevice;
  std::vector<BlockIoDeviceThrottle> throttleReadBpsDevice;
  std::vector<BlockIoDeviceThrottle> throttleWriteBpsDevice;
  std::vector<BlockIoDeviceThrottle> throttleReadIOPSDevice;
  std::vector<BlockIoDeviceThrottle> throttleWriteIOPSDevice;
};

struct HugepageLimit {
  std::string pageSize;  // "2MB"
  uint64_t limit = 0;
};

struct InterfacePriority {
  std::string name;
  uint32_t priority = 0;
};

struct NetworkResources {
  std::optional<uint32_t> classID;
  std::vector<InterfacePriority> priorities;
};

struct RdmaLimit {
  std::optional<uint32_t> hcaHandles;
  std::optional<uint32_t> hcaObjects;
};

struct Resources {
  std::vector<DeviceCgroup> devices;
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<PidsResources> pids;
  std::optional<BlockIoResources> blockIO;
  std::vector<HugepageLimit> hugepageLimits;
  std::optional<NetworkResources> network;
  std::map<std::string, RdmaLimit> rdma;
  std::map<std::string, std::string> unified;
};

// ---- linux.seccomp ----
struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  std::optional<uint64_t> valueTwo;
  std::string op;  // SCMP_CMP_EQ ...
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errnoRet;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string defaultAction;
  std::optional<uint32_t> defaultErrnoRet;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::optional<std::string> listenerPath;
  std::optional<std::string> listenerMetadata;
  std::vector<SeccompSyscall> syscalls;
};

struct IntelRdt {
  std::optional<std::string> closID;
  std::vector<std::string> schemata;
  std::optional<std::string> l3CacheSchema;
  std::optional<std::string> memBwSchema;
  std::optional<bool> enableMonitoring;
};

struct MemoryPolicy {
  std::string mode;  // MPOL_*
  std::optional<std::string> nodes;
  std::vector<std::string> flags;
};

struct Personality {
  std::string domain;  // LINUX LINUX32
  std::vector<std::string> flags;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct NetDevice {
  std::optional<std::string> name;  // new name inside the container
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uidMappings;
  std::vector<IdMapping> gidMappings;
  std::map<std::string, TimeOffset> timeOffsets;  // "boottime", "monotonic"
  std::vector<Device> devices;
  std::map<std::string, NetDevice> netDevices;
  std::optional<std::string> cgroupsPath;
  std::optional<Resources> resources;
  std::optional<std::string> rootfsPropagation;
  std::optional<Seccomp> seccomp;
  std::map<std::string, std::string> sysctl;
  // Absent maskedPaths/readonlyPaths mean "none" (runc adds no defaults).
  std::vector<std::string> maskedPaths;
  std::vector<std::string> readonlyPaths;
  std::optional<std::string> mountLabel;
  std::optional<IntelRdt> intelRdt;
  std::optional<MemoryPolicy> memoryPolicy;
  std::optional<Personality> personality;
};

struct Spec {
  std::string ociVersion;
  std::optional<Root> root;
  std::vector<Mount> mounts;
  std::optional<Process> process;
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  std::optional<Hooks> hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux;
};

}  // namespace berth::spec
