// Layout detection, the Manager factories and the saved-state format.
#include <linux/magic.h>
#include <sys/vfs.h>

#include <sstream>

#include "cgroups/controllers.hpp"
#include "cgroups/managers.hpp"

namespace berth::cgroups {

namespace {
constexpr const char* kStateMagic = "berth-cgroups/1";

Result<long> fsType(const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) return Error::fromErrno("statfs " + path);
  return static_cast<long>(fs.f_type);
}
}  // namespace

Result<Layout> detectLayout(const std::string& root) {
  auto type = TRY_CTX(fsType(root), "detect cgroup layout");
  if (type == CGROUP2_SUPER_MAGIC) return Layout::V2;
  auto unified = fsType(root + "/unified");
  if (unified.ok() && *unified == CGROUP2_SUPER_MAGIC) return Layout::Hybrid;
  return Layout::V1;
}

std::string encodeState(Layout layout, const std::string& root, const std::string& path, bool rootless,
                        bool disabled) {
  // One item per line; paths cannot hold newlines (containerCgroupPath).
  return std::string(kStateMagic) + "\n" + layoutName(layout) + "\n" + root + "\n" + path + "\n" +
         (rootless ? "rootless" : "root") + "\n" + (disabled ? "disabled" : "enabled") + "\n";
}

bool rootlessTolerates(bool rootless, const Error& e) {
  return rootless && (e.code() == EACCES || e.code() == EPERM || e.code() == EROFS);
}

Status checkNoResources(const spec::Resources& r) {
  bool any = !r.devices.empty() || r.memory || r.cpu || r.pids || r.blockIO || !r.hugepageLimits.empty() ||
             r.network || !r.rdma.empty() || !r.unified.empty();
  if (any) return Error("rootless: no access to cgroups, cannot apply limits").context("linux.resources");
  return {};
}

Result<std::unique_ptr<Manager>> Manager::make(Layout layout, const std::string& root, const std::string& path,
                                               bool rootless) {
  if (root.empty() || root[0] != '/') return Error("cgroup root \"" + root + "\" is not absolute");
  auto checked = TRY(containerCgroupPath(path, ""));
  if (layout == Layout::V2) return makeV2Manager(root, checked, rootless, false);
  return makeV1Manager(layout, root, checked, rootless, false);
}

Result<std::unique_ptr<Manager>> Manager::forContainer(const std::optional<std::string>& cgroupsPath,
                                                       const std::string& id, bool rootless) {
  auto path = TRY(containerCgroupPath(cgroupsPath, id));
  auto layout = TRY(detectLayout(kDefaultRoot));
  return make(layout, kDefaultRoot, path, rootless);
}

Result<std::unique_ptr<Manager>> Manager::load(const std::string& savedState) {
  std::istringstream in(savedState);
  std::string magic, layoutStr, root, path, rootless, disabled;
  if (!std::getline(in, magic) || magic != kStateMagic || !std::getline(in, layoutStr) || !std::getline(in, root) ||
      !std::getline(in, path) || !std::getline(in, rootless) || !std::getline(in, disabled))
    return Error("malformed saved cgroup state");
  Layout layout;
  if (layoutStr == "v1") layout = Layout::V1;
  else if (layoutStr == "hybrid") layout = Layout::Hybrid;
  else if (layoutStr == "v2") layout = Layout::V2;
  else return Error("saved cgroup state: unknown layout \"" + layoutStr + "\"");
  auto checked = TRY_CTX(containerCgroupPath(path, ""), "saved cgroup state");
  bool isRootless = rootless == "rootless", isDisabled = disabled == "disabled";
  if (layout == Layout::V2) return makeV2Manager(root, checked, isRootless, isDisabled);
  return makeV1Manager(layout, root, checked, isRootless, isDisabled);
}

}  // namespace berth::cgroups
