// Which namespaces a container gets, and how: created new (clone/unshare
// flags) or joined by path (setns). The plan is made in the parent from
// linux.namespaces; the joining happens in the child.
//
// Order matters and is fixed here:
//  - a user namespace joined by path is entered first: every other namespace
//    is then created owned by it, and joining the others needs its privilege;
//  - other joined namespaces are entered before a new user namespace is made,
//    because afterwards we would lack privilege over their owning namespace;
//  - pid namespaces (new or joined) only apply to children, so they force a
//    fork after setns/unshare (the "two-stage" path);
//  - a time namespace is unshared, its offsets written, then entered through
//    /proc/self/ns/time_for_children (offsets are frozen once a task is in it).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "spec/model.hpp"

namespace berth::namespaces {

struct Join {
  int nstype = 0;  // CLONE_NEW*
  std::string path;
};

struct Plan {
  int newFlags = 0;         // CLONE_NEW* to create (CLONE_NEWTIME handled separately)
  std::vector<Join> joins;  // user first
  bool newUser = false;
  bool joinUser = false;
  bool newPid = false;
  bool joinPid = false;
  bool newTime = false;
  bool newMount = false;
  bool newUts = false;
  bool newNet = false;
  bool newCgroup = false;

  // The fast path: no namespace joined by path, so one clone3 with every
  // CLONE_NEW* flag creates the init directly, with no intermediate process.
  bool singleStage() const { return joins.empty(); }
  bool has(int nstype) const;  // created or joined
};

// Errors name the JSON path: "linux.namespaces[1].type: unknown namespace type".
Result<Plan> makePlan(const std::optional<spec::Linux>& linux);

// Opens every joined namespace's path (before any setns: a path may be
// unreachable once the mount namespace is joined). Parent side.
Result<std::vector<UniqueFd>> openJoins(const Plan& plan);

// setns into each opened namespace, in plan order. Child side.
Status enterJoins(const Plan& plan, const std::vector<UniqueFd>& fds);

// Writes /proc/<pid>/{uid_map,gid_map} (and setgroups=deny when the caller
// lacks CAP_SETGID in the parent user namespace). Parent side. A non-root
// caller mapping more than its own single id goes through newuidmap /
// newgidmap; their refusal is "linux.uidMappings: newuidmap: <why>".
Status writeIdMaps(pid_t pid, const std::vector<spec::IdMapping>& uidMaps,
                   const std::vector<spec::IdMapping>& gidMaps);

// Unshares a time namespace, writes its offsets and enters it. Child side.
Status enterNewTimeNamespace(const std::map<std::string, spec::TimeOffset>& offsets);

const char* nsName(int nstype);

}  // namespace berth::namespaces
