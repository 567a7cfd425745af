// Resolving paths inside a hostile root. The rootfs belongs to the container:
// any component may be a symlink pointing anywhere, and it may change while we
// work. Every open here stays below `rootFd`: openat2(RESOLVE_IN_ROOT) where
// the kernel has it, else a component-by-component walk with O_NOFOLLOW that
// resolves symlinks itself, clamped to the root.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <string>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace berth::fs {

// Opens `path` (absolute or relative, interpreted inside the root) with
// `flags` (O_CLOEXEC is always added). Symlinks are followed but clamped to
// the root, like chroot would. O_NOFOLLOW in flags applies to the last
// component only.
Result<UniqueFd> openInRoot(int rootFd, const std::string& path, int flags, mode_t mode = 0);

// Creates the directories of `path` inside the root (like mkdir -p) and
// returns an O_PATH fd to the last one. Components that exist must be
// directories (symlinks to directories inside the root are followed).
Result<UniqueFd> mkdirAllInRoot(int rootFd, const std::string& path, mode_t mode = 0755);

// Creates (if missing) an empty regular file at `path` inside the root, its
// parent directories included, and returns an O_PATH fd to it: the target of
// a bind mount of a file.
Result<UniqueFd> createFileInRoot(int rootFd, const std::string& path, mode_t mode = 0644);

// For tests: force the fallback walk even where openat2 exists.
void setForceFallbackForTesting(bool force);

}  // namespace berth::fs
