// `features`: the single place that says what berth implements. A module
// that gains (or drops) a feature edits the list here or in known.cpp.
#include "spec/features.hpp"

#include <nlohmann/json.hpp>

#include "spec/known.hpp"
#include "spec/model.hpp"
#include "spec/validate.hpp"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

namespace berth::spec {

std::string featuresJson() {
  using nlohmann::ordered_json;
  ordered_json seccomp = {
      {"enabled", true},
      {"actions", knownSeccompActions()},
      {"operators", knownSeccompOperators()},
      {"archs", supportedSeccompArchs()},
      {"knownFlags", knownSeccompFlags()},
      {"supportedFlags", supportedSeccompFlags()},
  };
  ordered_json linuxFeatures = {
      {"namespaces", knownNamespaceTypes()},
      {"capabilities", knownCapabilities()},
      {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", true}}},
      {"seccomp", seccomp},
      {"apparmor", {{"enabled", false}}},
      {"selinux", {{"enabled", false}}},
      {"intelRdt", {{"enabled", false}}},
      {"netDevices", {{"enabled", true}}},
      {"mountExtensions", {{"idmap", {{"enabled", true}}}}},
  };
  ordered_json doc = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", kOciVersion},
      {"hooks", hookNames()},
      {"mountOptions", supportedMountOptions()},
      {"linux", linuxFeatures},
      {"annotations", {{"io.berth.version", BERTH_VERSION}}},
  };
  return doc.dump(1, '\t');  // callers add the final newline
}

}  // namespace berth::spec
