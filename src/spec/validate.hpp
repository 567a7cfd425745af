// Semantic validation of a parsed Spec: each check is a small function that
// reports problems as "<json.path>: <problem>". No syscalls: checks that need
// the host (does the rootfs exist, is a capability known to this kernel) are
// done where the resource is used.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::spec {

// Every problem found, in config order. Empty when the spec is valid.
std::vector<std::string> validationErrors(const Spec& spec);
// The first problem as an Error ("config.json: process.cwd: must be absolute").
Status validate(const Spec& spec);
// Checks a bare linux.resources object (update -r FILE); paths are relative
// to it ("memory.swappiness: ...").
Status validateResources(const Resources& resources);

// Capability names as the spec spells them ("CAP_SYS_ADMIN"); used by the
// validator and by features.
const std::vector<std::string>& knownCapabilities();

}  // namespace berth::spec
