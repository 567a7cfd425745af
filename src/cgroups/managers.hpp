// Internal to cgroups/: the two Manager implementations, made by manager.cpp.
#pragma once

#include <memory>
#include <string>

#include "cgroups/manager.hpp"

namespace berth::cgroups {

std::unique_ptr<Manager> makeV1Manager(Layout layout, std::string root, std::string path, bool rootless,
                                       bool disabled);
std::unique_ptr<Manager> makeV2Manager(std::string root, std::string path, bool rootless, bool disabled);

// The saveState() text shared by both.
std::string encodeState(Layout layout, const std::string& root, const std::string& path, bool rootless,
                        bool disabled);

// rootless and EACCES/EPERM/EROFS: the container runs without a cgroup.
bool rootlessTolerates(bool rootless, const Error& e);
// setResources of a manager without a cgroup: fine only when nothing is asked.
Status checkNoResources(const spec::Resources& r);

}  // namespace berth::cgroups
