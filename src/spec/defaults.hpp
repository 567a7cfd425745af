// The config.json that `berth-runtime spec` writes, modelled on runc's.
#pragma once

#include <string>

namespace berth::spec {

// Pretty-printed JSON (tab indent, like runc). `rootless` adds a user
// namespace with the caller's uid/gid mapped to root and drops the mounts and
// settings an unprivileged user cannot have (as `runc spec --rootless`).
std::string defaultConfigJson(bool rootless, unsigned hostUid, unsigned hostGid);

}  // namespace berth::spec
