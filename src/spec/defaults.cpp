// The `spec` command's template: the same shape and values as `runc spec`
// (runc 1.1), so tools and people used to runc's file find theirs.
#include "spec/defaults.hpp"

#include <nlohmann/json.hpp>

#include "spec/model.hpp"

namespace berth::spec {
namespace {

// ordered_json keeps runc's key order; a sorted file would be harder to diff.
using nlohmann::ordered_json;

ordered_json mount(const char* destination, const char* type, const char* source,
                   std::initializer_list<const char*> options) {
  ordered_json m = {{"destination", destination}, {"type", type}, {"source", source}};
  if (options.size() > 0) m["options"] = options;
  return m;
}

ordered_json process() {
  const ordered_json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  return {
      {"terminal", true},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"args", {"sh"}},
      {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
      {"cwd", "/"},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
      {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
      {"noNewPrivileges", true},
  };
}

// Rootless: an unprivileged user cannot mount a fresh sysfs without owning
// the network namespace's user namespace, so /sys is bind-mounted from the
// host; gid=5 is dropped from devpts because only one gid is mapped.
ordered_json mounts(bool rootless) {
  ordered_json list = ordered_json::array();
  list.push_back(mount("/proc", "proc", "proc", {}));
  list.push_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  if (rootless)
    list.push_back(mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}));
  else
    list.push_back(mount("/dev/pts", "devpts", "devpts",
                         {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  list.push_back(mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  list.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  if (rootless)
    list.push_back(mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
  else
    list.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  list.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  return list;
}

// Rootless: no network namespace (nothing could configure it) and no device
// cgroup rules (an unprivileged user cannot write them).
ordered_json linuxSection(bool rootless, unsigned hostUid, unsigned hostGid) {
  ordered_json l = ordered_json::object();
  if (rootless) {
    l["uidMappings"] = {{{"containerID", 0}, {"hostID", hostUid}, {"size", 1}}};
    l["gidMappings"] = {{{"containerID", 0}, {"hostID", hostGid}, {"size", 1}}};
  } else {
    l["resources"] = {{"devices", {{{"allow", false}, {"access", "rwm"}}}}};
  }
  ordered_json ns = ordered_json::array();
  for (const char* type : {"pid", "network", "ipc", "uts", "mount"}) {
    if (rootless && std::string_view(type) == "network") continue;
    ns.push_back({{"type", type}});
  }
  if (rootless) ns.push_back({{"type", "user"}});
  l["namespaces"] = ns;
  l["maskedPaths"] = {"/proc/acpi",          "/proc/asound",     "/proc/kcore",      "/proc/keys",
                      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                      "/sys/firmware",       "/proc/scsi"};
  l["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  return l;
}

}  // namespace

std::string defaultConfigJson(bool rootless, unsigned hostUid, unsigned hostGid) {
  ordered_json doc = {
      {"ociVersion", kOciVersion},
      {"process", process()},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "berth"},
      {"mounts", mounts(rootless)},
      {"linux", linuxSection(rootless, hostUid, hostGid)},
  };
  return doc.dump(1, '\t');  // callers add the final newline
}

}  // namespace berth::spec
