#include "security/capabilities.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <cctype>
#include <cerrno>
#include <memory>
#include <vector>

namespace berth::security {
namespace {

struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};
using CapHandle = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

Result<uint64_t> maskFromNames(const std::optional<std::vector<std::string>>& names, const char* setName) {
  uint64_t mask = 0;
  if (!names) return mask;
  const int known = kernelCapabilityCount();
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    cap_value_t value = -1;
    // cap_from_name also takes numbers and lower case ("cap_chown", "7"); the
    // spec names capabilities as capabilities(7) spells them, and so do we.
    bool wellFormed = name.size() > 4 && name.compare(0, 4, "CAP_") == 0;
    for (char c : name) wellFormed = wellFormed && (std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_');
    if (!wellFormed || cap_from_name(name.c_str(), &value) != 0 || value < 0 || value >= known || value >= 64) {
      return Error("unknown capability \"" + name + "\"")
          .context("process.capabilities." + std::string(setName) + "[" + std::to_string(i) + "]");
    }
    mask |= bit(value);
  }
  return mask;
}

Result<uint64_t> currentPermitted() {
  CapHandle caps(cap_get_proc());
  if (!caps) return Error::fromErrno("read the process capabilities");
  uint64_t mask = 0;
  for (int cap = 0; cap < kernelCapabilityCount() && cap < 64; ++cap) {
    cap_flag_value_t v = CAP_CLEAR;
    if (cap_get_flag(caps.get(), cap, CAP_PERMITTED, &v) == 0 && v == CAP_SET) mask |= bit(cap);
  }
  return mask;
}

std::string firstName(uint64_t mask) {
  for (int cap = 0; cap < 64; ++cap)
    if (mask & bit(cap)) return capabilityName(cap);
  return "?";
}

// cap_set_proc only says EPERM; find out which capability was refused so the
// user sees "CAP_SYS_RESOURCE ..." instead of a bare errno.
std::string explainCapsetFailure(const CapabilityPlan& plan) {
  auto permitted = currentPermitted();
  if (permitted) {
    uint64_t missing = (plan.permitted | plan.effective | plan.inheritable) & ~*permitted;
    if (missing)
      return firstName(missing) + " is not held by the runtime (missing from its bounding or permitted set)";
  }
  if (uint64_t bad = plan.effective & ~plan.permitted)
    return "effective capability " + firstName(bad) + " is not in the permitted set";
  if (uint64_t bad = plan.inheritable & ~plan.bounding)
    return "inheritable capability " + firstName(bad) + " is not in the bounding set";
  return "refused by the kernel";
}

}  // namespace

int kernelCapabilityCount() {
  // libcap probes the running kernel once (cap_last_cap + 1).
  return static_cast<int>(cap_max_bits());
}

std::string capabilityName(int cap) {
  std::unique_ptr<char, CapFree> raw(cap_to_name(cap));
  if (!raw) return std::to_string(cap);
  std::string name(raw.get());
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

Result<CapabilityPlan> planCapabilities(const std::optional<spec::Capabilities>& caps) {
  CapabilityPlan plan;
  if (!caps) return plan;
  plan.bounding = TRY(maskFromNames(caps->bounding, "bounding"));
  plan.effective = TRY(maskFromNames(caps->effective, "effective"));
  plan.inheritable = TRY(maskFromNames(caps->inheritable, "inheritable"));
  plan.permitted = TRY(maskFromNames(caps->permitted, "permitted"));
  plan.ambient = TRY(maskFromNames(caps->ambient, "ambient"));
  return plan;
}

Status prepareCapabilities(const CapabilityPlan& plan) {
  for (int cap = 0; cap < kernelCapabilityCount() && cap < 64; ++cap) {
    if (plan.bounding & bit(cap)) continue;
    // Dropped straight away (dropping an absent one succeeds): one prctl per
    // capability. Only a refusal asks whether it was there at all, since
    // without CAP_SETPCAP even that drop fails and there is nothing to drop.
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    const int dropErrno = errno;
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0) continue;  // the runtime never had it
    errno = dropErrno;
    return Error::fromErrno("drop " + capabilityName(cap) + " from the bounding set");
  }
  // Without KEEPCAPS, setresuid away from uid 0 empties the permitted set and
  // applyCapabilities could no longer grant anything.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Error::fromErrno("set PR_SET_KEEPCAPS");
  return {};
}

Status applyCapabilities(const CapabilityPlan& plan) {
  // KEEPCAPS has done its job across the uid switch; leaving it set would let
  // a later setuid in the container keep privileges.
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return Error::fromErrno("clear PR_SET_KEEPCAPS");

  CapHandle caps(cap_init());  // all three sets empty
  if (!caps) return Error::fromErrno("allocate a capability set");
  struct {
    cap_flag_t flag;
    uint64_t mask;
  } const sets[] = {{CAP_PERMITTED, plan.permitted}, {CAP_EFFECTIVE, plan.effective},
                    {CAP_INHERITABLE, plan.inheritable}};
  for (const auto& s : sets) {
    for (int cap = 0; cap < 64; ++cap) {
      if (!(s.mask & bit(cap))) continue;
      cap_value_t v = cap;
      if (cap_set_flag(caps.get(), s.flag, 1, &v, CAP_SET) != 0)
        return Error::fromErrno("add " + capabilityName(cap) + " to a capability set");
    }
  }
  if (cap_set_proc(caps.get()) != 0) {
    int err = errno;
    return Error("set capabilities: " + explainCapsetFailure(plan), err);
  }

  // The ambient set survives execve for a non-root uid, so it must hold
  // exactly the plan: clear whatever the runtime inherited first.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
    return Error::fromErrno("clear the ambient capability set");
  for (int cap = 0; cap < 64; ++cap) {
    if (!(plan.ambient & bit(cap))) continue;
    // The kernel only raises an ambient capability that is both permitted
    // and inheritable. Configs from `runc spec` list ambient capabilities
    // without inheritable ones (inheritable was dropped for CVE-2022-29162);
    // runc skips those with a warning, so a drop-in must not fail on them.
    // Skipping never grants more than the config asked for.
    if (!(plan.permitted & plan.inheritable & bit(cap))) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
      return Error::fromErrno("raise ambient capability " + capabilityName(cap));
  }
  return {};
}

}  // namespace berth::security
