// The state store: <root>/<id>/state.json, written atomically (temp file +
// rename), and a lock per container (flock on the container's directory) so
// concurrent commands on one container run one after another.
//
// The init's pid is stored with its start time (field 22 of /proc/pid/stat):
// a pid the kernel recycled for another process has a different start time,
// so it is never mistaken for the container.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace berth::container {

enum class ContainerStatus { Creating, Created, Running, Paused, Stopped };
const char* statusName(ContainerStatus s);

struct State {
  std::string id;
  std::string ociVersion;
  std::string bundle;
  std::string rootfs;
  pid_t pid = 0;
  uint64_t startTime = 0;  // of pid, in clock ticks since boot
  std::string created;     // RFC 3339
  std::string owner;       // uid as decimal, as runc's "owner"
  std::map<std::string, std::string> annotations;
  std::string cgroup;      // cgroups::Manager::saveState(), empty without cgroups
  bool ownPidNamespace = false;  // kill --all can rely on the pid ns dying with pid 1
  // Whether config.json had poststart/poststop hooks at create: start and
  // delete read the config again only then (parsing it is most of their work).
  bool poststartHooks = true;
  bool poststopHooks = true;
  ContainerStatus stored = ContainerStatus::Creating;
};

// JSON as `state` prints it (runtime-spec state + runc's extra keys);
// `compact` is the one-line form hooks get on stdin.
std::string stateJson(const State& s, ContainerStatus status, bool compact = false);

// Container ids: 1..1024 chars of [A-Za-z0-9_.+-], not "." or "..".
Status validateId(const std::string& id);

class Store {
 public:
  explicit Store(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string dir(const std::string& id) const { return root_ + "/" + id; }

  // Makes <root>/<id> exclusively (fails if the container exists) and locks it.
  Result<UniqueFd> createDir(const std::string& id);
  // Locks an existing container's directory; fails if it does not exist.
  Result<UniqueFd> lock(const std::string& id) const;
  Status save(const State& s) const;
  Result<State> load(const std::string& id) const;
  Status remove(const std::string& id) const;
  Result<std::vector<std::string>> list() const;

 private:
  std::string root_;
};

// The live status: stopped if the init is gone (or its pid was reused),
// created while exec.fifo exists, paused if the cgroup is frozen, else running.
ContainerStatus currentStatus(const State& s, const std::string& stateDir);
bool initAlive(const State& s);

}  // namespace berth::container
