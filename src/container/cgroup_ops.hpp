// The verbs that work on a running container's cgroup: pause, resume,
// update, ps, events. Each loads the container's saved cgroup state
// (State::cgroup) and drives a cgroups::Manager; the CLI (cmd_cgroups.cpp)
// only parses flags and prints.
//
// State rules, as runc: pause takes a running (or created) container,
// resume only a paused one, update any container that is not stopped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cgroups/manager.hpp"
#include "common/result.hpp"
#include "container/state.hpp"
#include "spec/model.hpp"

namespace berth::container {

Status pauseContainer(const Store& store, const std::string& id);
Status resumeContainer(const Store& store, const std::string& id);

// runc's `update` flags, as typed (validated by updateResources).
struct UpdateFlags {
  std::string resourcesFile;  // -r: JSON linux.resources; "-" = stdin
  std::optional<std::string> memory, memorySwap, memoryReservation;
  std::optional<std::string> cpuQuota, cpuPeriod, cpuShares, cpuRtPeriod, cpuRtRuntime;
  std::optional<std::string> cpusetCpus, cpusetMems;
  std::optional<std::string> pidsLimit, blkioWeight;
};
// The resources to apply: -r's file first, then each flag overrides its
// field. Errors name the flag ("--memory: ...") or the JSON path. `readStdin`
// supplies "-r -" (tests pass a string).
Result<spec::Resources> updateResources(const UpdateFlags& flags, const std::function<std::string()>& readStdin);
// Docker's RAMInBytes: "512", "64k", "1.5g", "2MiB"; binary multiples.
// "-1" (unlimited) is accepted, other negatives are not.
Result<int64_t> parseMemoryBytes(const std::string& value);
Status updateContainer(const Store& store, const std::string& id, const spec::Resources& resources);

// Host pids of every process in the container's cgroup, sorted.
Result<std::vector<pid_t>> containerPids(const Store& store, const std::string& id);
// `ps ID` as runc prints it: runs ps(1) with psArgs (default "-ef") and keeps
// the header and the lines whose PID column is one of `pids`.
Result<std::string> psTable(const std::vector<pid_t>& pids, const std::vector<std::string>& psArgs);
// Keeps the lines of ps output whose PID column is in `pids` (split out for tests).
Result<std::string> filterPsOutput(const std::string& psOutput, const std::vector<pid_t>& pids);

Result<cgroups::Stats> containerStats(const Store& store, const std::string& id);
// runc's event lines (one JSON object, no newline):
//   {"type":"stats","id":ID,"data":{"cpu":...,"memory":...,"pids":...,"blkio":...,"hugetlb":...}}
//   {"type":"oom","id":ID}
std::string statsEventJson(const std::string& id, const cgroups::Stats& stats);
std::string oomEventJson(const std::string& id);

struct EventsOptions {
  bool statsOnce = false;  // --stats: one stats event, then return
  std::chrono::milliseconds interval{5000};
};
// Emits a stats event every interval and an oom event whenever the kernel's
// OOM kill counter of the container's memory cgroup goes up, until the
// container stops.
Status streamEvents(const Store& store, const std::string& id, const EventsOptions& opts,
                    const std::function<void(const std::string&)>& emit);
// "5s", "500ms", "1m", "2" (seconds) -> milliseconds; > 0.
Result<std::chrono::milliseconds> parseInterval(const std::string& value);

}  // namespace berth::container
