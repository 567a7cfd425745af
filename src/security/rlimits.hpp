// process.rlimits: applied to the init itself (inherited across execve).
// Runs in the init child before the uid switch: raising a hard limit needs
// CAP_SYS_RESOURCE, which the process may lose afterwards.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::security {

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE. Error `unknown rlimit "RLIMIT_FOO"` for a
// name Linux does not have. For validation in the parent, too.
Result<int> rlimitResource(const std::string& type);

// setrlimit for each entry, in order. Errors name the entry:
//   rlimit RLIMIT_NOFILE (soft 1024, hard 4096): Operation not permitted
// A duplicated type is an error (runtime-spec), found before anything is set.
Status applyRlimits(const std::vector<spec::Rlimit>& rlimits);

}  // namespace berth::security
