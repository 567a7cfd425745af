// The last steps before execve that the container init and an exec'd
// process share. Both run in a cloned child inside the container's root.
#pragma once

#include <string>

#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::process {

// execvp's lookup of args[0] against the process's PATH, done before execve
// so that "not found" is a clear error at a point where someone listens.
// Worded like runc: Docker maps "no such file or directory" and
// "permission denied" in the message to exit statuses 127 and 126.
Result<std::string> findExecutable(const spec::Process& proc);

// Closes every fd but 0-2, the `extraFds` preserved ones (3..3+extraFds-1,
// handed on without CLOEXEC) and `keepFd` (the CLOEXEC channel whose closing
// at execve tells the parent the exec succeeded).
void closeUnwantedFds(int extraFds, int keepFd);

}  // namespace berth::process
