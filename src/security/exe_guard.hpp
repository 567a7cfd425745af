// CVE-2019-5736 guard. Until execve the init *is* the berth-runtime binary,
// so an entrypoint that resolves to /proc/self/exe (directly, through a
// symlink, or as a `#!/proc/self/exe` interpreter at any depth) would run
// the host's runtime binary inside the container, where the container's
// processes could reopen it for writing once it exits. The init refuses
// such an entrypoint: whatever the program resolves to must not be the file
// the runtime itself runs from.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.hpp"

namespace berth::security {

struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
};

// The runtime's own binary, through the host's procfs (checked to be
// procfs), so call it before the container's /proc is mounted or entered.
Result<FileIdentity> runtimeBinaryIdentity();

// Fails when `program`, or any interpreter its `#!` chain names, is the
// runtime binary. Paths are the container's: call it after pivot_root.
Status refuseRuntimeBinary(const std::string& program, const FileIdentity& runtime);

}  // namespace berth::security
