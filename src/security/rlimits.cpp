#include "security/rlimits.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <iterator>

namespace berth::security {
namespace {

struct RlimitName {
  const char* name;
  int resource;
};

constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

}  // namespace

Result<int> rlimitResource(const std::string& type) {
  for (const auto& r : kRlimits)
    if (type == r.name) return r.resource;
  return Error("unknown rlimit \"" + type + "\"");
}

Status applyRlimits(const std::vector<spec::Rlimit>& rlimits) {
  // Resolve and check everything first so a bad entry leaves no limit half
  // applied.
  std::vector<int> resources;
  resources.reserve(rlimits.size());
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const std::string ctx = "process.rlimits[" + std::to_string(i) + "]";
    int resource = TRY_CTX(rlimitResource(rlimits[i].type), ctx);
    for (size_t j = 0; j < i; ++j)
      if (resources[j] == resource)
        return Error("duplicate rlimit " + rlimits[i].type + " (also process.rlimits[" + std::to_string(j) + "])")
            .context(ctx);
    resources.push_back(resource);
  }
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const auto& r = rlimits[i];
    // uint64 max is RLIM_INFINITY, so the spec's values map one to one.
    rlimit lim{static_cast<rlim_t>(r.soft), static_cast<rlim_t>(r.hard)};
    if (::setrlimit(static_cast<__rlimit_resource_t>(resources[i]), &lim) != 0) {
      int err = errno;
      std::string msg = "rlimit " + r.type + " (soft " + std::to_string(r.soft) + ", hard " + std::to_string(r.hard) + ")";
      if (err == EINVAL && r.soft > r.hard) msg += ": soft limit above hard limit";
      if (err == EPERM) msg += ": raising a hard limit needs CAP_SYS_RESOURCE";
      return Error(msg, err);
    }
  }
  return {};
}

}  // namespace berth::security
