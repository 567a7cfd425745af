// cpu and cpuset: shares/weight, CFS quota and period, burst, realtime, idle,
// cpus and mems; cpu and cpuacct statistics.
#include <unistd.h>

#include <cctype>

#include "cgroups/controllers.hpp"

namespace berth::cgroups {

namespace {

// "0-3,7": digits, commas and dashes only; the kernel checks the rest.
Status checkList(const char* field, const std::optional<std::string>& v) {
  if (!v) return {};
  for (char c : *v)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != ',' && c != '-')
      return fieldError(field, "\"" + *v + "\" is not a list like \"0-3,7\"");
  return {};
}

Status validate(const spec::CpuResources& c) {
  if (c.shares && *c.shares != 0 && (*c.shares < 2 || *c.shares > 262144))
    return fieldError("cpu.shares", "invalid value " + std::to_string(*c.shares) + " (2-262144)");
  if (c.quota && *c.quota < -1 && *c.quota != 0)
    return fieldError("cpu.quota", "invalid value " + std::to_string(*c.quota) + " (microseconds, or -1)");
  if (c.quota && *c.quota > 0 && *c.quota < 1000)
    return fieldError("cpu.quota", "invalid value " + std::to_string(*c.quota) + " (at least 1000 microseconds)");
  if (c.period && *c.period != 0 && (*c.period < 1000 || *c.period > 1000000))
    return fieldError("cpu.period", "invalid value " + std::to_string(*c.period) + " (1000-1000000 microseconds)");
  if (c.burst && c.quota && *c.quota > 0 && *c.burst > static_cast<uint64_t>(*c.quota))
    return fieldError("cpu.burst", std::to_string(*c.burst) + " exceeds the quota " + std::to_string(*c.quota));
  if (c.realtimeRuntime && *c.realtimeRuntime < -1)
    return fieldError("cpu.realtimeRuntime", "invalid value " + std::to_string(*c.realtimeRuntime));
  if (c.idle && *c.idle != 0 && *c.idle != 1)
    return fieldError("cpu.idle", "invalid value " + std::to_string(*c.idle) + " (0 or 1)");
  TRY(checkList("cpu.cpus", c.cpus));
  TRY(checkList("cpu.mems", c.mems));
  return {};
}

bool wantsCpuController(const spec::CpuResources& c) {
  return (c.shares && *c.shares) || c.quota || c.burst || c.period || c.realtimeRuntime || c.realtimePeriod || c.idle;
}

}  // namespace

Status setCpuV1(const Dir& cpu, const Dir& cpuset, const spec::CpuResources& c) {
  TRY(validate(c));
  if (wantsCpuController(c) && !cpu.valid())
    return fieldError("cpu", "the host has no cpu cgroup controller");
  if ((c.cpus || c.mems) && !cpuset.valid())
    return fieldError(c.cpus ? "cpu.cpus" : "cpu.mems", "the host has no cpuset cgroup controller");
  if (c.shares && *c.shares) TRY(cpu.writeField("cpu.shares", "cpu.shares", std::to_string(*c.shares)));
  // The period first: a quota is checked against the period in force.
  if (c.period && *c.period) TRY(cpu.writeField("cpu.period", "cpu.cfs_period_us", std::to_string(*c.period)));
  if (c.quota && *c.quota) TRY(cpu.writeField("cpu.quota", "cpu.cfs_quota_us", std::to_string(*c.quota)));
  if (c.burst) {
    if (!cpu.has("cpu.cfs_burst_us")) return fieldError("cpu.burst", "not supported by this kernel");
    TRY(cpu.writeField("cpu.burst", "cpu.cfs_burst_us", std::to_string(*c.burst)));
  }
  // rt_runtime must fit in rt_period, so a period goes first.
  if (c.realtimePeriod) {
    if (!cpu.has("cpu.rt_period_us")) return fieldError("cpu.realtimePeriod", "the kernel has no RT group scheduling");
    TRY(cpu.writeField("cpu.realtimePeriod", "cpu.rt_period_us", std::to_string(*c.realtimePeriod)));
  }
  if (c.realtimeRuntime) {
    if (!cpu.has("cpu.rt_runtime_us"))
      return fieldError("cpu.realtimeRuntime", "the kernel has no RT group scheduling");
    TRY(cpu.writeField("cpu.realtimeRuntime", "cpu.rt_runtime_us", std::to_string(*c.realtimeRuntime)));
  }
  if (c.idle) {
    if (!cpu.has("cpu.idle")) return fieldError("cpu.idle", "not supported by this kernel");
    TRY(cpu.writeField("cpu.idle", "cpu.idle", std::to_string(*c.idle)));
  }
  if (c.cpus) TRY(cpuset.writeField("cpu.cpus", "cpuset.cpus", *c.cpus));
  if (c.mems) TRY(cpuset.writeField("cpu.mems", "cpuset.mems", *c.mems));
  return {};
}

Status setCpuV2(const Dir& d, const spec::CpuResources& c) {
  TRY(validate(c));
  if (c.realtimeRuntime || c.realtimePeriod)
    return fieldError(c.realtimeRuntime ? "cpu.realtimeRuntime" : "cpu.realtimePeriod",
                      "realtime group scheduling is not supported on cgroup v2");
  if (wantsCpuController(c) && !d.has("cpu.weight"))
    return fieldError("cpu", "the cpu controller is not enabled for this cgroup");
  if ((c.cpus || c.mems) && !d.has("cpuset.cpus"))
    return fieldError(c.cpus ? "cpu.cpus" : "cpu.mems", "the cpuset controller is not enabled for this cgroup");
  if (c.shares && *c.shares)
    TRY(d.writeField("cpu.shares", "cpu.weight", std::to_string(convert::cpuSharesToWeight(*c.shares))));
  if (c.idle) TRY(d.writeField("cpu.idle", "cpu.idle", std::to_string(*c.idle)));
  // cpu.max is "<quota|max> [period]"; a period alone keeps no quota ("max").
  if ((c.quota && *c.quota) || (c.period && *c.period)) {
    std::string v = (c.quota && *c.quota > 0) ? std::to_string(*c.quota) : "max";
    if (c.period && *c.period) v += " " + std::to_string(*c.period);
    TRY(d.writeField(c.quota ? "cpu.quota" : "cpu.period", "cpu.max", v));
  }
  if (c.burst) {
    if (!d.has("cpu.max.burst")) return fieldError("cpu.burst", "not supported by this kernel");
    TRY(d.writeField("cpu.burst", "cpu.max.burst", std::to_string(*c.burst)));
  }
  if (c.cpus) TRY(d.writeField("cpu.cpus", "cpuset.cpus", *c.cpus));
  if (c.mems) TRY(d.writeField("cpu.mems", "cpuset.mems", *c.mems));
  return {};
}

void cpuStatsV1(const Dir& cpu, const Dir& cpuacct, CpuStats& out) {
  if (cpuacct.valid()) {
    out.usage.total = cpuacct.readU64("cpuacct.usage").valueOr(0);
    if (auto s = cpuacct.read("cpuacct.usage_percpu")) {
      const char* p = s->c_str();
      for (;;) {
        char* end = nullptr;
        unsigned long long v = std::strtoull(p, &end, 10);
        if (end == p) break;
        out.usage.percpu.push_back(v);
        p = end;
      }
    }
    // cpuacct.stat counts clock ticks; the stats are nanoseconds.
    if (auto s = cpuacct.read("cpuacct.stat")) {
      auto kv = parseKeyValues(*s);
      const uint64_t nsPerTick = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
      out.usage.user = kv["user"] * nsPerTick;
      out.usage.kernel = kv["system"] * nsPerTick;
    }
  }
  if (cpu.valid()) {
    if (auto s = cpu.read("cpu.stat")) {
      auto kv = parseKeyValues(*s);
      out.throttling.periods = kv["nr_periods"];
      out.throttling.throttledPeriods = kv["nr_throttled"];
      out.throttling.throttledTime = kv["throttled_time"];
    }
  }
}

void cpuStatsV2(const Dir& d, CpuStats& out) {
  auto s = d.read("cpu.stat");
  if (!s) return;
  auto kv = parseKeyValues(*s);
  out.usage.total = kv["usage_usec"] * 1000;
  out.usage.user = kv["user_usec"] * 1000;
  out.usage.kernel = kv["system_usec"] * 1000;
  out.throttling.periods = kv["nr_periods"];
  out.throttling.throttledPeriods = kv["nr_throttled"];
  out.throttling.throttledTime = kv["throttled_usec"] * 1000;
}

}  // namespace berth::cgroups
