// Directories made by the kernel while the caller does something else.
//
// berth-runtime makes one cgroup directory per v1 hierarchy (9 on a typical
// v1 host, ~50 us each) for every container, and the container's init waits
// for them before its cgroup mount. Submitted to io_uring just before
// clone3 (itself ~1 ms of kernel work with a new network namespace), the
// mkdirs run on io_uring's kernel workers during the clone instead of after
// it. A helper thread could do the same, but the init is a raw clone3 of
// this process and could inherit a malloc lock held by that thread; the
// kernel's workers hold no user-space lock.
//
// Where io_uring is unavailable (old kernel, io_uring_disabled, a seccomp
// filter) nothing is submitted and wait() makes the directories itself, so
// callers need no second path.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace berth::sys {

class MkdirBatch {
 public:
  MkdirBatch();
  MkdirBatch(MkdirBatch&&) noexcept;
  MkdirBatch& operator=(MkdirBatch&&) noexcept;
  ~MkdirBatch();  // waits for what is still in flight

  // Submits mkdir(path, mode) for every path and returns at once.
  static MkdirBatch start(std::vector<std::string> paths, mode_t mode);

  // One result per path, in start()'s order: 0 or -errno, as mkdir(2)
  // would have given. Blocks until all are done; the second call returns
  // the same results.
  const std::vector<int>& wait();

  const std::vector<std::string>& paths() const { return paths_; }
  bool started() const { return started_; }
  // Whether the kernel did the work (tests: io_uring is really used).
  bool usedIoUring() const { return usedIoUring_; }

 private:
  struct Ring;
  std::vector<std::string> paths_;
  std::vector<int> results_;
  mode_t mode_ = 0755;
  bool started_ = false;
  bool done_ = false;
  bool usedIoUring_ = false;
  std::unique_ptr<Ring> ring_;
};

}  // namespace berth::sys
