// Capabilities of the container process: computed in the parent, applied in
// the init child.
//
// Call order in the init child (each step needs what the previous one kept):
//   1. prepareCapabilities(plan)  -- while still uid 0 in full power: shrinks
//      the bounding set (needs CAP_SETPCAP) and sets PR_SET_KEEPCAPS so the
//      permitted set survives the uid switch.
//   2. switchUser(user)           -- identity.hpp; needs CAP_SETUID/SETGID.
//   3. applyCapabilities(plan)    -- clears KEEPCAPS, sets permitted,
//      effective and inheritable, then the ambient set.
// After step 3 the process holds exactly the plan; execve comes later.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::security {

// One bit per capability number (CAP_CHOWN = bit 0). Linux has < 64 caps.
struct CapabilityPlan {
  uint64_t bounding = 0;
  uint64_t effective = 0;
  uint64_t inheritable = 0;
  uint64_t permitted = 0;
  uint64_t ambient = 0;

  bool operator==(const CapabilityPlan&) const = default;
};

// Converts the config's names to masks. Runs in the parent, before clone, so
// a typo fails `create` early:
//   process.capabilities.bounding[3]: unknown capability "CAP_FOO"
// A name is unknown when libcap does not know it or the running kernel does
// not support it. Absent sets (and absent `capabilities`) are empty.
Result<CapabilityPlan> planCapabilities(const std::optional<spec::Capabilities>& caps);

// Step 1 (see above). Capabilities the runtime's own bounding set lacks are
// skipped: they are already gone, which is what dropping wants.
Status prepareCapabilities(const CapabilityPlan& plan);

// Step 3 (see above). Asking for a capability the runtime does not hold
// fails with EPERM, as in runc, and the error names the capability.
// Inheritable and ambient hold only what the plan lists.
Status applyCapabilities(const CapabilityPlan& plan);

// "CAP_SYS_ADMIN" for 21; the number as text when libcap has no name.
std::string capabilityName(int cap);

// The number of capabilities the running kernel supports (cap_last_cap + 1).
int kernelCapabilityCount();

}  // namespace berth::security
