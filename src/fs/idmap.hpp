// Idmapped bind mounts (mount options "idmap" / "ridmap").
//
// The kernel takes an idmapping for a mount as a user namespace fd, so we make
// a throwaway namespace just to carry the mount's uidMappings/gidMappings:
// a helper child is cloned into a new user namespace, its maps are written,
// its ns/user is opened, and it is killed. The maps are used verbatim, as
// runc does: containerID is the id stored on disk, hostID the id the mount
// shows (so {containerID 0, hostID 1000} makes root-owned files appear owned
// by 1000, and files 1000 creates through the mount are stored as 0).
//
// Limitation: the caller needs CAP_SYS_ADMIN over the source filesystem's
// user namespace (the host's). An init running in a new user namespace does
// not have it, so idmapped mounts need a runtime running as host root
// without linux user namespace (creating the mount on the parent side and
// passing it over would lift this).
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "spec/model.hpp"

namespace berth::fs {

// "cid hid size\n" per entry, the uid_map/gid_map format.
std::string idMapText(const std::vector<spec::IdMapping>& maps);

// A user namespace fd whose uid_map/gid_map are the given mappings. Needs
// both lists non-empty. Forks (the caller must be single-threaded).
Result<UniqueFd> makeMappingUserns(const std::vector<spec::IdMapping>& uidMaps,
                                   const std::vector<spec::IdMapping>& gidMaps);

struct IdmapRequest {
  int sourceFd = -1;            // O_PATH fd of the host source
  std::string source;           // its path, for messages
  bool cloneRecursive = false;  // rbind: take the submounts along
  bool idmapRecursive = false;  // ridmap: map the submounts too
  std::vector<spec::IdMapping> uidMaps;
  std::vector<spec::IdMapping> gidMaps;
};

// A detached clone of the source tree with the idmapping applied, ready for
// move_mount(MOVE_MOUNT_F_EMPTY_PATH).
Result<UniqueFd> openIdmappedTree(const IdmapRequest& req);

// Attaches a detached tree (from openIdmappedTree) onto the O_PATH target fd.
Status attachTree(int treeFd, int targetFd, const std::string& shownTarget);

}  // namespace berth::fs
