// net_cls and net_prio: v1-only controllers (cgroup v2 has no equivalent;
// the eBPF socket hooks replace them), so a config using them on v2 fails.
#include "cgroups/controllers.hpp"

namespace berth::cgroups {

Status setNetClsV1(const Dir& d, const spec::NetworkResources& n) {
  if (!n.classID) return {};
  if (!d.valid()) return fieldError("network.classID", "the host has no net_cls cgroup controller");
  return d.writeField("network.classID", "net_cls.classid", std::to_string(*n.classID));
}

Status setNetPrioV1(const Dir& d, const spec::NetworkResources& n) {
  if (n.priorities.empty()) return {};
  if (!d.valid()) return fieldError("network.priorities", "the host has no net_prio cgroup controller");
  for (size_t i = 0; i < n.priorities.size(); ++i) {
    const auto& p = n.priorities[i];
    std::string f = "network.priorities[" + std::to_string(i) + "]";
    if (p.name.empty() || p.name.find_first_of(" \n/") != std::string::npos)
      return fieldError(f + ".name", "invalid interface name \"" + p.name + "\"");
    // One "<ifname> <prio>" per write: the kernel parses a single pair.
    TRY(d.writeField(f, "net_prio.ifpriomap", p.name + " " + std::to_string(p.priority)));
  }
  return {};
}

}  // namespace berth::cgroups
