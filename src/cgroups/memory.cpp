// memory: limit, reservation, swap, kernel memory, swappiness, OOM killer.
#include "cgroups/controllers.hpp"
#include "common/log.hpp"

namespace berth::cgroups {

namespace {

// -1 is the spec's "unlimited"; any other negative value is nonsense.
Status checkBytes(const char* field, const std::optional<int64_t>& v) {
  if (v && *v < -1) return fieldError(field, "invalid value " + std::to_string(*v) + " (bytes, or -1 for unlimited)");
  return {};
}

}  // namespace

Status validateMemory(const spec::MemoryResources& m) {
  TRY(checkBytes("memory.limit", m.limit));
  TRY(checkBytes("memory.reservation", m.reservation));
  TRY(checkBytes("memory.swap", m.swap));
  TRY(checkBytes("memory.kernel", m.kernel));
  TRY(checkBytes("memory.kernelTCP", m.kernelTCP));
  if (m.swappiness && *m.swappiness > 100)
    return fieldError("memory.swappiness", "invalid value " + std::to_string(*m.swappiness) + " (0-100)");
  return {};
}

namespace {

std::string v2Value(int64_t v) { return v == -1 ? "max" : std::to_string(v); }

}  // namespace

Status setMemoryV1(const Dir& d, const spec::MemoryResources& m) {
  TRY(validateMemory(m));
  const bool swapFile = d.has("memory.memsw.limit_in_bytes");
  if (m.swap && !swapFile)
    return fieldError("memory.swap", "the host has no swap accounting (memory.memsw.limit_in_bytes)");
  if (m.swap && m.limit && *m.swap != -1 && *m.limit != -1 && *m.swap < *m.limit)
    return fieldError("memory.swap", std::to_string(*m.swap) + " is below the memory limit " +
                                         std::to_string(*m.limit) + " (swap is memory+swap)");
  // The kernel keeps memsw >= memory at all times, so raising both must raise
  // memsw first and lowering both must lower memory first.
  bool swapFirst = false;
  if (m.swap && m.limit) {
    if (*m.swap == -1) {
      swapFirst = true;
    } else {
      auto cur = d.readU64("memory.limit_in_bytes");
      swapFirst = cur.ok() && (*m.limit == -1 || static_cast<uint64_t>(*m.limit) > *cur);
    }
  }
  if (m.swap && swapFirst) TRY(d.writeField("memory.swap", "memory.memsw.limit_in_bytes", std::to_string(*m.swap)));
  if (m.limit) TRY(d.writeField("memory.limit", "memory.limit_in_bytes", std::to_string(*m.limit)));
  if (m.swap && !swapFirst) TRY(d.writeField("memory.swap", "memory.memsw.limit_in_bytes", std::to_string(*m.swap)));
  if (m.reservation)
    TRY(d.writeField("memory.reservation", "memory.soft_limit_in_bytes", std::to_string(*m.reservation)));
  // Kernel memory limits are deprecated (NOT RECOMMENDED in the spec) and
  // kernels >= 5.16 refuse them; like runc, berth only warns.
  if (m.kernel) log::warn("linux.resources.memory.kernel is deprecated and ignored");
  if (m.kernelTCP)
    TRY(d.writeField("memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes", std::to_string(*m.kernelTCP)));
  if (m.swappiness) TRY(d.writeField("memory.swappiness", "memory.swappiness", std::to_string(*m.swappiness)));
  if (m.disableOOMKiller)
    TRY(d.writeField("memory.disableOOMKiller", "memory.oom_control", *m.disableOOMKiller ? "1" : "0"));
  if (m.useHierarchy)
    TRY(d.writeField("memory.useHierarchy", "memory.use_hierarchy", *m.useHierarchy ? "1" : "0"));
  return {};
}

Status setMemoryV2(const Dir& d, const spec::MemoryResources& m) {
  TRY(validateMemory(m));
  auto swap = TRY(convert::memorySwapToV2(m.swap, m.limit));
  if (m.swappiness) return fieldError("memory.swappiness", "not supported on cgroup v2");
  if (m.disableOOMKiller && *m.disableOOMKiller)
    return fieldError("memory.disableOOMKiller", "not supported on cgroup v2");
  if (m.useHierarchy && !*m.useHierarchy)
    return fieldError("memory.useHierarchy", "cgroup v2 is always hierarchical");
  if (m.kernel || m.kernelTCP) log::warn("linux.resources.memory.kernel/kernelTCP have no cgroup v2 equivalent; ignored");
  if (swap && !d.has("memory.swap.max"))
    return fieldError("memory.swap", "the host has no swap accounting (memory.swap.max)");
  // v1's kernel refuses a limit below the usage; v2 would OOM-kill instead.
  // checkBeforeUpdate asks for v1's behaviour.
  if (m.limit && *m.limit != -1 && m.checkBeforeUpdate && *m.checkBeforeUpdate) {
    auto cur = d.readU64("memory.current");
    if (cur.ok() && *cur > static_cast<uint64_t>(*m.limit))
      return fieldError("memory.limit", std::to_string(*m.limit) + " is below the current usage " +
                                            std::to_string(*cur) + " (checkBeforeUpdate)");
  }
  // memory.swap.max before memory.max would not matter on v2 (they are
  // independent), but a lowered limit with swap failing should not stick:
  // write swap first, it is the one that may be unsupported.
  if (swap) TRY(d.writeField("memory.swap", "memory.swap.max", v2Value(*swap)));
  if (m.limit) TRY(d.writeField("memory.limit", "memory.max", v2Value(*m.limit)));
  if (m.reservation) TRY(d.writeField("memory.reservation", "memory.low", v2Value(*m.reservation)));
  return {};
}

namespace {
uint64_t readOr0(const Dir& d, const std::string& file) { return d.readU64(file).valueOr(0); }

void entryV1(const Dir& d, const std::string& prefix, MemoryEntry& e) {
  e.usage = readOr0(d, prefix + "usage_in_bytes");
  e.max = readOr0(d, prefix + "max_usage_in_bytes");
  e.failcnt = readOr0(d, prefix + "failcnt");
  e.limit = readOr0(d, prefix + "limit_in_bytes");
}
}  // namespace

void memoryStatsV1(const Dir& d, MemoryStats& out) {
  if (!d.valid()) return;
  if (auto s = d.read("memory.stat")) out.raw = parseKeyValues(*s);
  out.cache = out.raw.count("cache") ? out.raw["cache"] : 0;
  entryV1(d, "memory.", out.usage);
  entryV1(d, "memory.memsw.", out.swap);
  entryV1(d, "memory.kmem.", out.kernel);
  entryV1(d, "memory.kmem.tcp.", out.kernelTCP);
}

void memoryStatsV2(const Dir& d, MemoryStats& out) {
  if (!d.valid()) return;
  if (auto s = d.read("memory.stat")) out.raw = parseKeyValues(*s);
  out.cache = out.raw.count("file") ? out.raw["file"] : 0;
  out.usage.usage = readOr0(d, "memory.current");
  out.usage.max = readOr0(d, "memory.peak");
  out.usage.limit = d.readU64("memory.max").valueOr(UINT64_MAX);
  if (auto ev = d.read("memory.events")) out.usage.failcnt = parseKeyValues(*ev)["max"];
  // runc reports v2 swap as memory+swap, keeping v1's meaning for its users.
  if (d.has("memory.swap.current")) {
    out.swap.usage = readOr0(d, "memory.swap.current") + out.usage.usage;
    uint64_t swapMax = d.readU64("memory.swap.max").valueOr(UINT64_MAX);
    out.swap.limit = (swapMax == UINT64_MAX || out.usage.limit == UINT64_MAX) ? UINT64_MAX : swapMax + out.usage.limit;
    if (auto ev = d.read("memory.swap.events")) out.swap.failcnt = parseKeyValues(*ev)["fail"];
  }
}

}  // namespace berth::cgroups
