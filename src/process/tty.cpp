#include "process/tty.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "common/scope_guard.hpp"
#include "common/syscalls.hpp"
#include "fs/safe_path.hpp"

namespace berth::process {

Result<UniqueFd> connectConsoleSocket(const std::string& path) {
  const std::string ctx = "--console-socket " + path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return Error(ctx + ": path too long or empty", EINVAL);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::fromErrno(ctx + ": socket");
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Error::fromErrno(ctx + ": connect");
  return sock;
}

Status sendFd(int sock, int fd, const std::string& name) {
  iovec iov{const_cast<char*>(name.data()), name.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return {};
    if (errno != EINTR) return Error::fromErrno("send fd");
  }
}

Result<UniqueFd> receiveFd(int sock, std::string* name) {
  char data[4096];
  iovec iov{data, sizeof data};
  // Room for more than one fd, so a sender that passes extra ones is caught
  // (and its fds closed) rather than leaking them into us.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::fromErrno("receive fd");
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  if (fds.size() != 1) {
    for (int fd : fds) ::close(fd);
    if (n == 0 && fds.empty()) return Error("receive fd: peer closed without sending one", EPIPE);
    return Error("receive fd: expected exactly one fd, got " + std::to_string(fds.size()));
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    ::close(fds[0]);
    return Error("receive fd: control data truncated");
  }
  if (name) name->assign(data, static_cast<size_t>(n));
  return UniqueFd(fds[0]);
}

Result<Pty> openContainerPty(const std::optional<spec::ConsoleSize>& size) {
  Pty pty;
  pty.master = UniqueFd(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master) return Error::fromErrno("open /dev/ptmx");
  unsigned ptn = 0;
  // Also proves the fd is a pty master: /dev/ptmx is in a directory the
  // container could have prepared.
  if (::ioctl(pty.master.get(), TIOCGPTN, &ptn) != 0) return Error::fromErrno("/dev/ptmx: TIOCGPTN");
  int unlock = 0;
  if (::ioctl(pty.master.get(), TIOCSPTLCK, &unlock) != 0) return Error::fromErrno("/dev/ptmx: unlockpt");
  pty.slave = UniqueFd(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.slave) return Error::fromErrno("/dev/ptmx: open the pty peer (TIOCGPTPEER)");
  if (size && (size->height || size->width)) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(pty.slave.get(), TIOCSWINSZ, &ws) != 0) return Error::fromErrno("process.consoleSize: TIOCSWINSZ");
  }
  return pty;
}

Status mountConsole(int slaveFd) {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::fromErrno("open /");
  auto target = TRY_CTX(fs::createFileInRoot(root.get(), "/dev/console", 0666), "/dev/console");
  // The new mount API binds the fd we hold; no path of the slave is
  // resolved. Older kernels: bind through the /proc/self/fd magic links.
  UniqueFd tree(sys::openTree(slaveFd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (tree && sys::moveMount(tree.get(), "", target.get(), "",
                             MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == 0)
    return {};
  if (::mount(sys::fdPath(slaveFd).c_str(), sys::fdPath(target.get()).c_str(), nullptr, MS_BIND, nullptr) != 0)
    return Error::fromErrno("bind mount the pty onto /dev/console");
  return {};
}

Status becomeTerminalOwner(UniqueFd slave) {
  if (::setsid() < 0) return Error::fromErrno("setsid");
  if (::ioctl(slave.get(), TIOCSCTTY, 0) != 0) return Error::fromErrno("make the pty the controlling terminal");
  for (int fd = 0; fd <= 2; ++fd)
    if (::dup2(slave.get(), fd) < 0) return Error::fromErrno("dup the pty onto stdio");
  if (slave.get() <= 2) slave.release();
  return {};
}

Status setupTerminal(UniqueFd consoleSocket, const std::optional<spec::ConsoleSize>& size, bool withDevConsole) {
  auto pty = TRY(openContainerPty(size));
  // /dev/console first: a failure then leaves no master with the receiver.
  if (withDevConsole) TRY(mountConsole(pty.slave.get()));
  TRY_CTX(sendFd(consoleSocket.get(), pty.master.get(), "/dev/ptmx"), "console socket");
  pty.master.reset();
  consoleSocket.reset();
  return becomeTerminalOwner(std::move(pty.slave));
}

namespace {

void copyWindowSize(int from, int to) {
  winsize ws{};
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0 && (ws.ws_row || ws.ws_col)) ::ioctl(to, TIOCSWINSZ, &ws);
}

// false once the fd reached EOF or EIO (a pty master whose slave side is
// gone reads EIO).
bool pump(int from, int to) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n > 0) {
      if (!sys::writeAll(to, buf, static_cast<size_t>(n))) return false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

}  // namespace

Result<int> relayTerminalUntilExit(pid_t pid, int pidfd, UniqueFd master, const sigset_t& forwarded) {
  const bool haveMaster = master.valid();
  termios saved{};
  bool raw = haveMaster && ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    termios t = saved;
    ::cfmakeraw(&t);
    ::tcsetattr(0, TCSANOW, &t);
    copyWindowSize(0, master.get());
  }
  ScopeGuard restore([&] {
    if (raw) ::tcsetattr(0, TCSANOW, &saved);
  });
  UniqueFd sfd(::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) return Error::fromErrno("signalfd");
  if (haveMaster) ::fcntl(master.get(), F_SETFL, ::fcntl(master.get(), F_GETFL) | O_NONBLOCK);
  int inFlags = haveMaster ? ::fcntl(0, F_GETFL) : -1;
  bool stdinOpen = inFlags >= 0;
  if (stdinOpen) ::fcntl(0, F_SETFL, inFlags | O_NONBLOCK);
  ScopeGuard restoreIn([&] {
    if (inFlags >= 0) ::fcntl(0, F_SETFL, inFlags);
  });
  bool masterOpen = haveMaster;
  bool exited = false;
  while (!exited) {
    pollfd fds[4] = {{pidfd, POLLIN, 0},
                     {sfd.get(), POLLIN, 0},
                     {masterOpen ? master.get() : -1, POLLIN, 0},
                     {stdinOpen ? 0 : -1, POLLIN, 0}};
    int n = ::poll(fds, 4, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno("poll");
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGWINCH) {
          if (raw) copyWindowSize(0, master.get());
        } else if (si.ssi_signo != SIGCHLD) {
          sys::pidfdSendSignal(pidfd, static_cast<int>(si.ssi_signo));
        }
      }
    }
    if (fds[2].revents) masterOpen = pump(master.get(), 1);
    if (fds[3].revents) {
      // At EOF the pty stays open: closing the master would hang up the
      // process before it has printed what it was asked for.
      stdinOpen = pump(0, master.get());
    }
    if (fds[0].revents & POLLIN) exited = true;
  }
  // The process is gone, but what it wrote may still be on its way through
  // the line discipline: read until the slave side reports hangup, or until
  // nothing arrives for a while (a child it left behind may hold the slave).
  while (masterOpen) {
    pollfd p{master.get(), POLLIN, 0};
    int n = ::poll(&p, 1, 200);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    masterOpen = pump(master.get(), 1);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::fromErrno("wait for the container process");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace berth::process
