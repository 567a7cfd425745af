// Per-process kernel attributes from the config that the init sets on
// itself so the user program inherits them across execve: execution domain
// (linux.personality), scheduling (process.scheduler, sched_setattr), I/O
// priority, CPU affinity (process.execCPUAffinity) and NUMA memory policy
// (linux.memoryPolicy). Each is a no-op when its field is absent; errors
// name the field.
#pragma once

#include <optional>
#include <string>

#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::security {

Status applyPersonality(const std::optional<spec::Personality>& p);
Status applyScheduler(const std::optional<spec::Scheduler>& s);
Status applyIoPriority(const std::optional<spec::IoPriority>& io);
Status applyMemoryPolicy(const std::optional<spec::MemoryPolicy>& m);
// `field` is "process.execCPUAffinity.initial" or ".final", for errors.
Status applyCpuAffinity(const std::optional<std::string>& cpus, const std::string& field);

// "0-2,5" -> {0,1,2,5}; false on malformed text.
bool parseIdList(const std::string& text, std::vector<unsigned>& out);

}  // namespace berth::security
