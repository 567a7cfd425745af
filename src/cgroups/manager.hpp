// cgroups: one Manager per container, behind which sit the cgroup v1 (and
// hybrid: v1 plus the unified hierarchy) and the pure v2 implementations.
//
// Lifecycle, as container/ drives it:
//   auto m = TRY(Manager::forContainer(spec.linux->cgroupsPath, id, rootless));
//   TRY(m->create());                 // rollback on any later failure: m->destroy()
//   TRY(m->setResources(*spec.linux->resources));
//   clone3 with CLONE_INTO_CGROUP when m->cloneIntoFd() >= 0, else m->apply(pid)
//   state.json stores m->saveState(); later verbs use Manager::load(saved)
//
// Paths: cgroupsPath "/a/b" is taken below every hierarchy's root (v1: below
// each controller's mount, v2: below the cgroup2 mount); a relative "a/b" is
// taken below the root too (as runc does); absent means "/berth/<id>". A path
// with a ".." component is refused with an error naming linux.cgroupsPath.
//
// Everything reads and writes below the root directory given at construction
// ("/sys/fs/cgroup" in production), so tests point it at a temp-dir fake.
// Nothing here throws; errors name the config field they come from, e.g.
//   linux.resources.memory.limit: write memory.limit_in_bytes: Invalid argument
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "common/cgroup_hierarchy.hpp"
#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::cgroups {

inline constexpr const char* kDefaultRoot = "/sys/fs/cgroup";

// V1: only v1 hierarchies. Hybrid: v1 hierarchies plus a cgroup2 mount at
// <root>/unified (controllers found there are driven through v2 files).
// V2: <root> itself is a cgroup2 mount.
enum class Layout { V1, Hybrid, V2 };
const char* layoutName(Layout layout);

// Looks at the filesystem types of <root> and <root>/unified.
Result<Layout> detectLayout(const std::string& root = kDefaultRoot);

// The fields of runc's `events --stats` JSON ("cpu", "memory", "pids",
// "blkio", "hugetlb"); container/ serializes them. Times are nanoseconds.
struct CpuUsage {
  uint64_t total = 0;
  std::vector<uint64_t> percpu;
  uint64_t kernel = 0;
  uint64_t user = 0;
};
struct CpuThrottling {
  uint64_t periods = 0;
  uint64_t throttledPeriods = 0;
  uint64_t throttledTime = 0;
};
struct CpuStats {
  CpuUsage usage;
  CpuThrottling throttling;
};
struct MemoryEntry {
  uint64_t limit = 0;  // bytes; "unlimited" is reported as UINT64_MAX, as runc does
  uint64_t usage = 0;
  uint64_t max = 0;
  uint64_t failcnt = 0;
};
struct MemoryStats {
  uint64_t cache = 0;
  MemoryEntry usage;
  MemoryEntry swap;
  MemoryEntry kernel;
  MemoryEntry kernelTCP;
  std::map<std::string, uint64_t> raw;  // memory.stat as is
};
struct PidsStats {
  uint64_t current = 0;
  uint64_t limit = 0;  // 0 = no limit
};
struct BlkioEntry {
  uint64_t major = 0;
  uint64_t minor = 0;
  std::string op;  // "Read", "Write", "Sync", "Async", "Discard", "Total"
  uint64_t value = 0;
};
struct BlkioStats {
  std::vector<BlkioEntry> ioServiceBytesRecursive;
  std::vector<BlkioEntry> ioServicedRecursive;
};
struct HugetlbStats {
  uint64_t usage = 0;
  uint64_t max = 0;
  uint64_t failcnt = 0;
};
struct Stats {
  CpuStats cpu;
  MemoryStats memory;
  PidsStats pids;
  BlkioStats blkio;
  std::map<std::string, HugetlbStats> hugetlb;  // key: page size, "2MB"
};

// The cgroup path for a container (see the header comment). Validated.
Result<std::string> containerCgroupPath(const std::optional<std::string>& cgroupsPath, const std::string& id);

// One per container. Not RAII: destroy() is explicit, so a Manager can be
// dropped without touching the cgroup (e.g. after `create` has succeeded).
class Manager {
 public:
  virtual ~Manager() = default;

  // The production manager: detects the layout under /sys/fs/cgroup.
  // rootless: when no cgroupsPath is given, failing to create the cgroup for
  // lack of permission is not an error (the container runs without one);
  // setResources then fails if any limit was asked for.
  static Result<std::unique_ptr<Manager>> forContainer(const std::optional<std::string>& cgroupsPath,
                                                       const std::string& id, bool rootless);
  // Same, with an explicit layout and root (tests: a temp-dir fake cgroupfs).
  // `path` is already a cgroup path (see containerCgroupPath).
  static Result<std::unique_ptr<Manager>> make(Layout layout, const std::string& root, const std::string& path,
                                               bool rootless = false);
  // From saveState()'s string.
  static Result<std::unique_ptr<Manager>> load(const std::string& savedState);

  // Small text (no JSON): layout, root, path, rootless; container/ stores it
  // in state.json as an opaque string.
  virtual std::string saveState() const = 0;

  // mkdir the cgroup on every hierarchy (v1 cpuset: copies the parent's cpus
  // and mems, without which no process may join; v2: enables the available
  // controllers in every ancestor's cgroup.subtree_control). On failure,
  // whatever it created is removed again.
  virtual Status create() = 0;
  // create() in two steps, so that most of it overlaps with the init's own
  // setup: createForClone() makes what clone3 needs (the cgroup2 directory
  // for CLONE_INTO_CGROUP: all of v2, the unified part of hybrid), and
  // createRest() the v1 hierarchies, while the init already runs. On failure
  // each removes what it made; a failed createRest leaves createForClone's
  // part to destroy().
  virtual Status createForClone() = 0;
  virtual Status createRest() = 0;
  // Optional, just before the clone: submits createRest()'s directories to
  // io_uring, so the kernel makes them while clone3 runs (mkdir_batch.hpp
  // has why). createRest() then completes them and does the rest.
  virtual void startCreateRest() {}
  // How a process joins its cgroup without the parent moving it: the
  // parent's write of a pid to cgroup.procs takes the kernel's
  // cgroup_threadgroup_rwsem for writing, and that waits for a full RCU grace
  // period (5 to 20 ms on this machine: most of a container's start). Two
  // ways around it, which container start and exec use:
  //  - cgroup2: clone3(CLONE_INTO_CGROUP) into cloneIntoFd();
  //  - v1: the process, single-threaded, writes "0" to each of
  //    openTasksFiles() (joinThroughTasks), which moves only itself and takes
  //    no global lock. The parent opens them: the kernel checks the opener's
  //    credentials, so the process may write them from inside its user
  //    namespace. An init gets them with CgroupJoined, once the parent has
  //    written the limits (a v1 devices update is not atomic: deny-all comes
  //    first, and the init creates device nodes).
  // apply() is left for a kernel without CLONE_INTO_CGROUP.
  //
  // The cgroup2 directory (v2, or the unified part of hybrid) as an
  // O_PATH|O_DIRECTORY fd, owned by the manager; valid once the cgroup exists
  // (after create(), createForClone(), or load() of an existing one), -1 on
  // pure v1 and for a disabled manager.
  virtual int cloneIntoFd() const = 0;
  // The `tasks` file of the cgroup on every v1 hierarchy, open for writing;
  // none on pure v2 and for a disabled manager.
  virtual Result<std::vector<UniqueFd>> openTasksFiles() = 0;
  // Moves `pid` into the cgroup on every hierarchy.
  virtual Status apply(pid_t pid) = 0;
  // Writes every limit in `resources`; errors name the field.
  virtual Status setResources(const spec::Resources& resources) = 0;

  // freeze() returns once the cgroup is FROZEN; if it cannot get there in
  // time it thaws again and fails, so a cgroup is never left half-frozen.
  virtual Status freeze() = 0;
  virtual Status thaw() = 0;
  virtual Result<bool> isFrozen() = 0;

  // Every process in the cgroup and its descendants.
  virtual Result<std::vector<pid_t>> pids() = 0;
  // v2 with SIGKILL: cgroup.kill. Otherwise: freeze, signal every pid, thaw
  // (nothing can fork past the signal while frozen).
  virtual Status killAll(int signal) = 0;
  virtual Result<Stats> stats() = 0;

  // Thaws, then removes the cgroup (and sub-cgroups the container made) on
  // every hierarchy, retrying EBUSY briefly. A missing cgroup is fine.
  // Parents are left, berth's own default parent "/berth" too, as runc and
  // crun leave theirs: removing it costs a cgroup rmdir+mkdir per container
  // in every hierarchy and races with a concurrent create under it.
  // (scripts/cgroup-v2-env.sh removes an empty /berth before moving a v1
  // controller to v2, which needs a hierarchy without child cgroups.)
  virtual Status destroy() = 0;
  // destroy() for a cgroup whose processes are known to be gone (the init
  // of a container with its own pid namespace has been reaped: the kernel
  // killed and reaped everything else in it first). Skips the freezer check,
  // three cgroupfs reads; nothing can be frozen in an empty cgroup.
  virtual Status destroyEmptied() { return destroy(); }

  // The host directory of the container's cgroup for `controller` ("memory",
  // "cpu", ...; v2 ignores it), for the container's cgroup mounts. Empty when
  // the controller is not available.
  virtual std::string pathFor(const std::string& controller) const = 0;

  // v1 and hybrid: every hierarchy the container is in, for the init's
  // cgroup mount (which would otherwise read mountinfo to find them). Empty
  // on v2 and for a disabled manager.
  virtual std::vector<CgroupHierarchy> containerView() const { return {}; }

  virtual Layout layout() const = 0;
  // The cgroup path, e.g. "/berth/<id>".
  virtual const std::string& path() const = 0;
};

// Writes "0" to each of Manager::openTasksFiles() and closes them: moves the
// calling thread, i.e. a single-threaded process, into those v1 cgroups.
Status joinThroughTasks(std::vector<UniqueFd>& tasks);

// Unit conversions from the runtime-spec's (v1) values to cgroup v2 files.
namespace convert {
// cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 means unset and stays 0.
uint64_t cpuSharesToWeight(uint64_t shares);
// blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 stays 0.
uint64_t blkioWeightToIoWeight(uint64_t weight);
// memory.swap.max from the spec's swap (memory+swap) and limit.
// nullopt: leave memory.swap.max alone. "-1" maps to "max" (returned as -1).
Result<std::optional<int64_t>> memorySwapToV2(std::optional<int64_t> swap, std::optional<int64_t> limit);
// "2MB" -> 2097152; errors on anything not <digits><K|M|G|T>B.
Result<uint64_t> hugePageSizeBytes(const std::string& pageSize);
}  // namespace convert

}  // namespace berth::cgroups
