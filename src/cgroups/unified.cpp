// linux.resources.unified: raw cgroup v2 files, written as given. Written
// after the converted v1 values so an explicit unified value wins.
#include <algorithm>

#include "cgroups/controllers.hpp"

namespace berth::cgroups {

Status setUnified(const Dir& d, const std::map<std::string, std::string>& unified,
                  const std::vector<std::string>& available) {
  for (const auto& [key, value] : unified) {
    std::string f = "unified[" + key + "]";
    // The key names a file in the container's cgroup, nothing else.
    if (key.empty() || key.find('/') != std::string::npos || key == "." || key == "..")
      return fieldError(f, "not a cgroup file name");
    size_t dot = key.find('.');
    if (dot == std::string::npos || dot == 0) return fieldError(f, "not a <controller>.<file> name");
    std::string controller = key.substr(0, dot);
    if (controller != "cgroup" &&
        std::find(available.begin(), available.end(), controller) == available.end())
      return fieldError(f, "the " + controller + " controller is not available for this cgroup");
    if (!d.has(key)) return fieldError(f, "no such file in the cgroup");
    TRY(d.writeField(f, key, value));
  }
  return {};
}

}  // namespace berth::cgroups
