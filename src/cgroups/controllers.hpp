// Internal to cgroups/: the per-controller writers and stat readers, one
// controller per .cpp, each with its v1 and v2 variant. Managers (v1.cpp,
// v2.cpp) decide which directory each one gets.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cgroups/manager.hpp"
#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::cgroups {

// One cgroup directory on one hierarchy; every file access of a controller
// goes through it so the fake cgroupfs of the tests sees all of it.
class Dir {
 public:
  Dir() = default;
  explicit Dir(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }
  bool valid() const { return !path_.empty(); }
  bool has(const std::string& file) const;
  Result<std::string> read(const std::string& file) const;
  // Trimmed of the trailing newline.
  Result<std::string> readLine(const std::string& file) const;
  Result<uint64_t> readU64(const std::string& file) const;  // "max" -> UINT64_MAX
  Status write(const std::string& file, const std::string& value) const;
  // write() whose error is prefixed with the config field it implements.
  Status writeField(const std::string& field, const std::string& file, const std::string& value) const;

 private:
  std::string path_;
};

inline const std::string kRes = "linux.resources.";

inline Status withContext(Status st, const std::string& ctx) {
  if (!st) return std::move(st).error().context(ctx);
  return st;
}

// An error naming `field`: "linux.resources.cpu.quota: <msg>".
Error fieldError(const std::string& field, const std::string& msg, int errnum = 0);
// "key value\n" lines (memory.stat, cpu.stat) -> map.
std::map<std::string, uint64_t> parseKeyValues(const std::string& text);

// ---- writers: each returns an error naming the field it could not set ----
Status setMemoryV1(const Dir& d, const spec::MemoryResources& m);
Status setMemoryV2(const Dir& d, const spec::MemoryResources& m);
// cpu and cpuset are separate v1 controllers: either Dir may be invalid
// (then its fields must be absent).
Status setCpuV1(const Dir& cpu, const Dir& cpuset, const spec::CpuResources& c);
Status setCpuV2(const Dir& d, const spec::CpuResources& c);
Status setPidsV1(const Dir& d, const spec::PidsResources& p);
Status setPidsV2(const Dir& d, const spec::PidsResources& p);
Status setBlkioV1(const Dir& d, const spec::BlockIoResources& b);
Status setBlkioV2(const Dir& d, const spec::BlockIoResources& b);
Status setHugetlbV1(const Dir& d, const std::vector<spec::HugepageLimit>& limits);
Status setHugetlbV2(const Dir& d, const std::vector<spec::HugepageLimit>& limits);
Status setDevicesV1(const Dir& d, const std::vector<spec::DeviceCgroup>& rules);
// Builds, loads and attaches a BPF_PROG_TYPE_CGROUP_DEVICE program to the
// cgroup directory (replacing one berth attached before).
Status setDevicesV2(const Dir& d, const std::vector<spec::DeviceCgroup>& rules);
Status setNetClsV1(const Dir& d, const spec::NetworkResources& n);
Status setNetPrioV1(const Dir& d, const spec::NetworkResources& n);
Status setRdma(const Dir& d, const std::map<std::string, spec::RdmaLimit>& rdma);  // same file on v1 and v2
// `available`: the controllers in cgroup.controllers of the cgroup.
Status setUnified(const Dir& d, const std::map<std::string, std::string>& unified,
                  const std::vector<std::string>& available);

// Checks shared by v1 and v2 (nonsense values), before anything is written.
Status validateMemory(const spec::MemoryResources& m);
Status validateDevices(const std::vector<spec::DeviceCgroup>& rules);

// ---- device rules, shared by the v1 writer and the v2 BPF builder ----
struct DeviceRule {
  bool allow = false;
  char type = 'a';     // a c b
  int64_t major = -1;  // -1 = any
  int64_t minor = -1;
  std::string access;  // subset of "rwm"
};
Result<std::vector<DeviceRule>> deviceRules(const std::vector<spec::DeviceCgroup>& rules);
// The v1 line: "c 1:3 rwm", with '*' for "any".
std::string deviceRuleLine(const DeviceRule& r);
// The BPF_PROG_TYPE_CGROUP_DEVICE program for `rules`, applied as v1 would:
// a wildcard "a" rule resets (allow-all or deny-all), later rules win.
std::vector<bpf_insn> deviceProgram(const std::vector<DeviceRule>& rules);

// ---- stats readers: a missing file leaves the field at zero ----
void cpuStatsV1(const Dir& cpu, const Dir& cpuacct, CpuStats& out);
void cpuStatsV2(const Dir& d, CpuStats& out);
void memoryStatsV1(const Dir& d, MemoryStats& out);
void memoryStatsV2(const Dir& d, MemoryStats& out);
void pidsStatsV1(const Dir& d, PidsStats& out);
void pidsStatsV2(const Dir& d, PidsStats& out);
void blkioStatsV1(const Dir& d, BlkioStats& out);
void blkioStatsV2(const Dir& d, BlkioStats& out);
void hugetlbStatsV1(const Dir& d, std::map<std::string, HugetlbStats>& out);
void hugetlbStatsV2(const Dir& d, std::map<std::string, HugetlbStats>& out);

// ---- shared helpers of the two managers ----
// Every pid in cgroup.procs of `dir` and its sub-directories.
Result<std::vector<pid_t>> collectPids(const std::string& dir);
// rmdir the tree bottom-up, retrying EBUSY; ENOENT is success.
Status removeTree(const std::string& dir);
// cgroup.freeze / cgroup.events, the v2 core freezer (also used for the
// unified part of a hybrid layout when freezer is not on v1).
Status setFrozenV2(const Dir& d, bool frozen);
Result<bool> isFrozenV2(const Dir& d);
// The controllers listed in a cgroup's cgroup.controllers (or another file
// of the same format, e.g. cgroup.subtree_control).
Result<std::vector<std::string>> readControllers(const Dir& d, const std::string& file = "cgroup.controllers");
// Enables `controllers` in the cgroup.subtree_control of every directory
// from `top` down to the parent of `top + rel` (which must exist). Ones that
// cannot be enabled are skipped: setResources names them if they are needed.
void enableControllers(const std::string& top, const std::string& rel, const std::vector<std::string>& controllers);
// Creates `top + rel` level by level; `created` gets each new directory,
// outermost first, so a rollback can remove them innermost first.
Status makeCgroupDirs(const std::string& top, const std::string& rel, std::vector<std::string>& created);
void removeCreated(const std::vector<std::string>& created);
// Writes `pid` to cgroup.procs of `dir`.
Status joinCgroup(const std::string& dir, pid_t pid);
// Sends `signal` to every pid in the tree of `dir`.
Status signalAll(const std::string& dir, int signal);
// Waits (briefly) for `done` to become true, polling.
bool pollUntil(const std::function<bool()>& done, int timeoutMs);

}  // namespace berth::cgroups
