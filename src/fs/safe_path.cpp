#include "fs/safe_path.hpp"

#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

#include "common/syscalls.hpp"

namespace berth::fs {
namespace {

// Linux's own limit on symlinks followed in one lookup (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;

bool gForceFallback = false;

std::deque<std::string> splitPath(const std::string& path) {
  std::deque<std::string> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    if (next > pos) out.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

Result<std::string> readLinkAt(int dirFd, const std::string& name) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dirFd, name.c_str(), buf.data(), buf.size());
    if (n < 0) return Error::fromErrno("readlink " + name);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (buf.size() >= 65536) return Error("readlink " + name + ": target too long");
    buf.resize(buf.size() * 2);
  }
}

// The walk behind the fallback and mkdirAllInRoot. Every component is opened
// with O_NOFOLLOW relative to an fd we already trust, so the kernel never
// follows a link the rootfs planted; we read links ourselves and restart from
// the root for absolute targets, and ".." at the root stays at the root, which
// is exactly what chroot(2) semantics give the container.
//
// `createDirs`: missing components become directories (mkdir -p). Otherwise
// the last component is opened with `flags`/`mode` (O_CREAT allowed there).
Result<UniqueFd> walkInRoot(int rootFd, const std::string& path, int flags, mode_t mode, bool createDirs,
                            mode_t dirMode) {
  std::deque<std::string> todo = splitPath(path);
  // Stack of directories from the root down: ".." pops, clamped at the root.
  std::vector<UniqueFd> stack;
  stack.emplace_back(::fcntl(rootFd, F_DUPFD_CLOEXEC, 0));
  if (!stack.back()) return Error::fromErrno("dup root fd");
  int links = 0;
  const bool finalNoFollow = (flags & O_NOFOLLOW) != 0;

  while (!todo.empty()) {
    std::string name = std::move(todo.front());
    todo.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      if (stack.size() > 1) stack.pop_back();
      continue;
    }
    const bool last = todo.empty();
    int cur = stack.back().get();

    UniqueFd probe(::openat(cur, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!probe && errno == ENOENT && createDirs) {
      if (::mkdirat(cur, name.c_str(), dirMode) != 0 && errno != EEXIST) return Error::fromErrno("mkdir " + name);
      probe.reset(::openat(cur, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!probe) {
      if (errno == ENOENT && last && (flags & O_CREAT)) {
        // O_NOFOLLOW: a symlink planted between the probe and here fails the
        // open (ELOOP) instead of being followed.
        UniqueFd fd(::openat(cur, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode));
        if (!fd) return Error::fromErrno("open " + name);
        return fd;
      }
      return Error::fromErrno("open " + name);
    }
    struct stat st {};
    if (::fstat(probe.get(), &st) != 0) return Error::fromErrno("stat " + name);

    if (S_ISLNK(st.st_mode) && !(last && finalNoFollow && !createDirs)) {
      if (++links > kMaxSymlinks) return Error("resolve " + path, ELOOP);
      auto target = readLinkAt(probe.get(), "");
      if (!target) return std::move(target).error();
      if (target->empty()) return Error("resolve " + path + ": empty symlink", ENOENT);
      if ((*target)[0] == '/') stack.resize(1);
      std::deque<std::string> parts = splitPath(*target);
      todo.insert(todo.begin(), parts.begin(), parts.end());
      continue;
    }
    if (!last) {
      if (!S_ISDIR(st.st_mode)) return Error("open " + name, ENOTDIR);
      stack.push_back(std::move(probe));
      continue;
    }
    if (createDirs) {
      if (!S_ISDIR(st.st_mode)) return Error("mkdir " + name, ENOTDIR);
      return probe;
    }
    if ((flags & O_PATH) && !(flags & O_DIRECTORY)) return probe;  // O_PATH probe is already what was asked
    UniqueFd fd(::openat(cur, name.c_str(), (flags & ~O_CREAT) | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd) return Error::fromErrno("open " + name);
    return fd;
  }
  // The path named the root itself (or a walk that ended by "..").
  if (createDirs) return std::move(stack.back());
  UniqueFd fd(::openat(stack.back().get(), ".", (flags & ~(O_CREAT | O_NOFOLLOW)) | O_CLOEXEC));
  if (!fd) return Error::fromErrno("open " + path);
  return fd;
}

}  // namespace

void setForceFallbackForTesting(bool force) { gForceFallback = force; }

Result<UniqueFd> openInRoot(int rootFd, const std::string& path, int flags, mode_t mode) {
  if (!gForceFallback) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    std::string rel = path.empty() ? "." : path;
    // EAGAIN: a concurrent rename in the rootfs made the kernel give up
    // (RESOLVE_IN_ROOT refuses to guess); a few retries settle it.
    for (int attempt = 0; attempt < 16; ++attempt) {
      int fd = sys::openat2(rootFd, rel.c_str(), how);
      if (fd >= 0) return UniqueFd(fd);
      if (errno == EAGAIN || errno == EINTR) continue;
      if (errno == ENOSYS) break;  // kernel < 5.6: walk ourselves
      return Error::fromErrno("open " + path + " in rootfs");
    }
    if (errno != ENOSYS) return Error::fromErrno("open " + path + " in rootfs");
  }
  auto fd = walkInRoot(rootFd, path, flags, mode, false, 0);
  if (!fd) return std::move(fd).error().context("open " + path + " in rootfs");
  return fd;
}

Result<UniqueFd> mkdirAllInRoot(int rootFd, const std::string& path, mode_t mode) {
  // Fast path: it usually exists already.
  if (auto fd = openInRoot(rootFd, path, O_PATH | O_DIRECTORY); fd.ok()) return fd;
  auto fd = walkInRoot(rootFd, path, O_PATH | O_DIRECTORY, 0, true, mode);
  if (!fd) return std::move(fd).error().context("mkdir -p " + path + " in rootfs");
  return fd;
}

Result<UniqueFd> createFileInRoot(int rootFd, const std::string& path, mode_t mode) {
  if (auto fd = openInRoot(rootFd, path, O_PATH); fd.ok()) {
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return Error::fromErrno("stat " + path + " in rootfs");
    if (S_ISDIR(st.st_mode)) return Error("create file " + path + " in rootfs: is a directory", EISDIR);
    return fd;
  }
  std::string dir = path;
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  size_t slash = dir.rfind('/');
  dir = slash == std::string::npos ? "/" : dir.substr(0, slash);
  TRY_CTX(mkdirAllInRoot(rootFd, dir.empty() ? "/" : dir), "create file " + path);
  // O_NONBLOCK: if something raced in a FIFO here, opening must not hang.
  auto created = TRY_CTX(openInRoot(rootFd, path, O_CREAT | O_RDONLY | O_NONBLOCK | O_NOCTTY, mode),
                         "create file " + path);
  // Hand back an O_PATH fd, as for existing files; reopening our own fd
  // through /proc/self/fd cannot be redirected by the rootfs.
  UniqueFd pathFd(::open(sys::fdPath(created.get()).c_str(), O_PATH | O_CLOEXEC));
  if (!pathFd) return Error::fromErrno("reopen " + path);
  return pathFd;
}

}  // namespace berth::fs
