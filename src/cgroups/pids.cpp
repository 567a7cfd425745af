// pids: the task limit ("max" for -1; 0 is a real limit, as the spec says).
#include "cgroups/controllers.hpp"

namespace berth::cgroups {

namespace {
Result<std::string> pidsValue(const spec::PidsResources& p) {
  if (p.limit < -1) return fieldError("pids.limit", "invalid value " + std::to_string(p.limit) + " (>= 0, or -1)");
  return p.limit == -1 ? std::string("max") : std::to_string(p.limit);
}
}  // namespace

Status setPidsV1(const Dir& d, const spec::PidsResources& p) {
  auto v = TRY(pidsValue(p));
  return d.writeField("pids.limit", "pids.max", v);
}

Status setPidsV2(const Dir& d, const spec::PidsResources& p) {
  auto v = TRY(pidsValue(p));
  if (!d.has("pids.max")) return fieldError("pids.limit", "the pids controller is not enabled for this cgroup");
  return d.writeField("pids.limit", "pids.max", v);
}

namespace {
void readPids(const Dir& d, PidsStats& out) {
  if (!d.valid()) return;
  out.current = d.readU64("pids.current").valueOr(0);
  uint64_t max = d.readU64("pids.max").valueOr(0);
  out.limit = max == UINT64_MAX ? 0 : max;
}
}  // namespace

void pidsStatsV1(const Dir& d, PidsStats& out) { readPids(d, out); }
void pidsStatsV2(const Dir& d, PidsStats& out) { readPids(d, out); }

}  // namespace berth::cgroups
