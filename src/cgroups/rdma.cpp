// rdma: per device handle/object limits; rdma.max has the same format on
// cgroup v1 and v2, so one writer serves both.
#include "cgroups/controllers.hpp"

namespace berth::cgroups {

Status setRdma(const Dir& d, const std::map<std::string, spec::RdmaLimit>& rdma) {
  for (const auto& [device, limit] : rdma) {
    std::string f = "rdma[" + device + "]";
    if (!limit.hcaHandles && !limit.hcaObjects)
      return fieldError(f, "needs at least one of hcaHandles and hcaObjects");
    if (device.empty() || device.find_first_of(" \n=") != std::string::npos)
      return fieldError(f, "invalid device name");
    if (!d.valid() || !d.has("rdma.max")) return fieldError(f, "the host has no rdma cgroup controller");
    // An absent value is left unlimited, as a fresh cgroup would be.
    std::string v = device + " hca_handle=" + (limit.hcaHandles ? std::to_string(*limit.hcaHandles) : "max") +
                    " hca_object=" + (limit.hcaObjects ? std::to_string(*limit.hcaObjects) : "max");
    TRY(d.writeField(f, "rdma.max", v));
  }
  return {};
}

}  // namespace berth::cgroups
