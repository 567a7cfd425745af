#include "security/process_attrs.hpp"

#include <sched.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <vector>

namespace berth::security {
namespace {

// The kernel's struct sched_attr (sched_setattr(2)); glibc 2.36 has no
// wrapper for it.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

template <typename T>
std::optional<T> lookup(const std::map<std::string, T>& m, const std::string& k) {
  auto it = m.find(k);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

}  // namespace

bool parseIdList(const std::string& text, std::vector<unsigned>& out) {
  size_t pos = 0;
  if (text.empty()) return false;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string part = text.substr(pos, end - pos);
    char* rest = nullptr;
    unsigned long lo = std::strtoul(part.c_str(), &rest, 10);
    if (rest == part.c_str()) return false;
    unsigned long hi = lo;
    if (*rest == '-') {
      const char* h = rest + 1;
      hi = std::strtoul(h, &rest, 10);
      if (rest == h) return false;
    }
    if (*rest != '\0' || hi < lo || hi > 4095) return false;
    for (unsigned long i = lo; i <= hi; ++i) out.push_back(static_cast<unsigned>(i));
    pos = end + 1;
  }
  return true;
}

Status applyPersonality(const std::optional<spec::Personality>& p) {
  if (!p) return {};
  static const std::map<std::string, unsigned long> domains = {{"LINUX", PER_LINUX}, {"LINUX32", PER_LINUX32}};
  auto d = lookup(domains, p->domain);
  if (!d) return Error("linux.personality.domain: unknown domain \"" + p->domain + "\"");
  if (::personality(*d) < 0) return Error::fromErrno("linux.personality: personality");
  return {};
}

Status applyScheduler(const std::optional<spec::Scheduler>& s) {
  if (!s) return {};
  static const std::map<std::string, uint32_t> policies = {
      {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2}, {"SCHED_BATCH", 3},
      {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6}};
  static const std::map<std::string, uint64_t> flags = {
      {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},     {"SCHED_FLAG_DL_OVERRUN", 0x04},
      {"SCHED_FLAG_KEEP_POLICY", 0x08},   {"SCHED_FLAG_KEEP_PARAMS", 0x10}, {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
      {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40}};
  auto policy = lookup(policies, s->policy);
  if (!policy) return Error("process.scheduler.policy: unknown policy \"" + s->policy + "\"");
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.sched_policy = *policy;
  for (const auto& f : s->flags) {
    auto bit = lookup(flags, f);
    if (!bit) return Error("process.scheduler.flags: unknown flag \"" + f + "\"");
    attr.sched_flags |= *bit;
  }
  attr.sched_nice = s->nice.value_or(0);
  attr.sched_priority = static_cast<uint32_t>(s->priority.value_or(0));
  attr.sched_runtime = s->runtime.value_or(0);
  attr.sched_deadline = s->deadline.value_or(0);
  attr.sched_period = s->period.value_or(0);
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0) return Error::fromErrno("process.scheduler: sched_setattr");
  return {};
}

Status applyIoPriority(const std::optional<spec::IoPriority>& io) {
  if (!io) return {};
  static const std::map<std::string, int> classes = {
      {"IOPRIO_CLASS_RT", 1}, {"IOPRIO_CLASS_BE", 2}, {"IOPRIO_CLASS_IDLE", 3}};
  auto cls = lookup(classes, io->ioClass);
  if (!cls) return Error("process.ioPriority.class: unknown class \"" + io->ioClass + "\"");
  constexpr int kWhoProcess = 1, kClassShift = 13;
  if (::syscall(SYS_ioprio_set, kWhoProcess, 0, (*cls << kClassShift) | io->priority) != 0)
    return Error::fromErrno("process.ioPriority: ioprio_set");
  return {};
}

Status applyMemoryPolicy(const std::optional<spec::MemoryPolicy>& m) {
  if (!m) return {};
  static const std::map<std::string, int> modes = {
      {"MPOL_DEFAULT", 0}, {"MPOL_PREFERRED", 1},      {"MPOL_BIND", 2},
      {"MPOL_INTERLEAVE", 3}, {"MPOL_LOCAL", 4}, {"MPOL_PREFERRED_MANY", 5}, {"MPOL_WEIGHTED_INTERLEAVE", 6}};
  static const std::map<std::string, int> flags = {
      {"MPOL_F_NUMA_BALANCING", 1 << 13}, {"MPOL_F_RELATIVE_NODES", 1 << 14}, {"MPOL_F_STATIC_NODES", 1 << 15}};
  auto mode = lookup(modes, m->mode);
  if (!mode) return Error("linux.memoryPolicy.mode: unknown mode \"" + m->mode + "\"");
  int value = *mode;
  for (const auto& f : m->flags) {
    auto bit = lookup(flags, f);
    if (!bit) return Error("linux.memoryPolicy.flags: unknown flag \"" + f + "\"");
    value |= *bit;
  }
  std::vector<unsigned long> mask(4096 / (8 * sizeof(unsigned long)), 0);
  unsigned long maxnode = 0;
  if (m->nodes && !m->nodes->empty()) {
    std::vector<unsigned> nodes;
    if (!parseIdList(*m->nodes, nodes)) return Error("linux.memoryPolicy.nodes: not a node list: \"" + *m->nodes + "\"");
    for (unsigned n : nodes) mask[n / (8 * sizeof(unsigned long))] |= 1UL << (n % (8 * sizeof(unsigned long)));
    maxnode = mask.size() * 8 * sizeof(unsigned long);
  }
  if (::syscall(SYS_set_mempolicy, value, maxnode ? mask.data() : nullptr, maxnode) != 0)
    return Error::fromErrno("linux.memoryPolicy: set_mempolicy");
  return {};
}

Status applyCpuAffinity(const std::optional<std::string>& cpus, const std::string& field) {
  if (!cpus) return {};
  std::vector<unsigned> ids;
  if (!parseIdList(*cpus, ids)) return Error(field + ": not a CPU list: \"" + *cpus + "\"");
  cpu_set_t* set = CPU_ALLOC(4096);
  if (!set) return Error(field + ": out of memory", ENOMEM);
  size_t size = CPU_ALLOC_SIZE(4096);
  CPU_ZERO_S(size, set);
  for (unsigned id : ids) CPU_SET_S(id, size, set);
  int rc = ::sched_setaffinity(0, size, set);
  int err = errno;
  CPU_FREE(set);
  if (rc != 0) return Error(field + ": sched_setaffinity", err);
  return {};
}

}  // namespace berth::security
