// Running OCI hooks: fork + execve, the container state on stdin, an
// optional timeout. Callable from the runtime and from the init child alike:
// no exceptions escape, no threads are started.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::hooks {

// Most of a hook's stdout and of its stderr kept for the error message; the
// rest is read and dropped so a chatty hook never blocks on a full pipe.
inline constexpr size_t kMaxCapturedOutput = 4096;

// Runs one hook and waits for it. argv is `args` (the path alone when args is
// empty), the environment is exactly `env`, stdin carries `stateJson` (a
// hook that does not read it is fine). Errors:
//   hook /path timed out after N s               (then it was SIGKILLed)
//   hook /path exited with status N: <stderr>
//   hook /path killed by signal N: <stderr>
//   hook /path: execve: No such file or directory
// When stderr is empty the hook's stdout stands in for it.
Status runHook(const spec::Hook& hook, const std::string& stateJson);

// Runs hooks in order and stops at the first failure, with the context
// "<kind> hook[i]", e.g. "createRuntime hook[1]: hook /bin/x exited ...".
Status runHooks(const std::vector<spec::Hook>& hooks, const std::string& stateJson, std::string_view kind);

// Whether the config has hooks that run between the container's creation
// and its start (prestart, createRuntime, createContainer, startContainer):
// only then do the runtime and the init exchange RunCreateHooks/HooksDone.
bool anyBeforeStart(const spec::Spec& spec);

// For poststop (runtime-spec: a failure is a warning and the rest still run):
// logs each failure with log::warn and carries on.
void runHooksWarnOnly(const std::vector<spec::Hook>& hooks, const std::string& stateJson, std::string_view kind);

}  // namespace berth::hooks
