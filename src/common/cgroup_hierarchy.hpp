// One cgroup v1 hierarchy (or the unified one of a hybrid host) as a
// container's cgroup mount shows it. Here rather than in cgroups/ or fs/: the
// cgroup manager, which made the container's directories, produces the list
// and the rootfs code mounts it, and those two modules do not depend on each
// other.
#pragma once

#include <string>

namespace berth {

struct CgroupHierarchy {
  std::string name;         // directory under the mount: "cpu,cpuacct", "systemd", "unified"
  std::string hostDir;      // the container's cgroup there: "/sys/fs/cgroup/cpu,cpuacct/berth/<id>"
  std::string controllers;  // what a fresh mount names: "cpu,cpuacct", "name=systemd"; "" for cgroup2
};

}  // namespace berth
