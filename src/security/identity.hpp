// Who the container process is and what it may still gain: user and groups,
// umask, no_new_privs, oom_score_adj.
#pragma once

#include <sys/types.h>

#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::security {

// In the init child, between prepareCapabilities and applyCapabilities (see
// capabilities.hpp for why): setgroups(additionalGids), setresgid, setresuid,
// then the umask (0022 when the config gives none, as runc does, so the
// container does not inherit whatever umask the caller of the runtime had).
// An empty additionalGids still clears the runtime's own supplementary
// groups, except in a user namespace whose /proc/self/setgroups is "deny",
// where setgroups is impossible and skipped; asking for additionalGids there
// is an error.
Status switchUser(const spec::User& user);

// prctl(PR_SET_NO_NEW_PRIVS): execve can no longer grant privileges (setuid
// bits, file capabilities). Irreversible; the init sets it after the
// capabilities, before seccomp (which needs it when unprivileged).
Status setNoNewPrivileges();

// Writes /proc/<pid>/oom_score_adj. The parent calls it for the init child
// (lowering the value below the current one needs CAP_SYS_RESOURCE there).
// value must be within [-1000, 1000].
Status setOomScoreAdj(pid_t pid, int value);

}  // namespace berth::security
