// recvtty: the receiving end of --console-socket, for the terminal tests.
//
//   recvtty SOCKET OUT [INPUT]
//
// Listens on the unix socket SOCKET (it appears under that name only once it
// accepts connections, so a caller can wait for the file), takes ONE
// connection, receives the pty master (one message: the name as data, the fd
// as SCM_RIGHTS), writes the name to OUT.name, writes INPUT (if given) to
// the master, and copies everything the master yields into OUT until the
// terminal hangs up. Exit status: 0, or 2 when the protocol was not
// followed (OUT.name then says why).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

int fail(const std::string& out, const std::string& why) {
  FILE* f = std::fopen((out + ".name").c_str(), "w");
  if (f) {
    std::fprintf(f, "error: %s\n", why.c_str());
    std::fclose(f);
  }
  std::fprintf(stderr, "recvtty: %s\n", why.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: recvtty SOCKET OUT [INPUT]\n");
    return 2;
  }
  const std::string path = argv[1], out = argv[2];
  const std::string tmp = path + ".tmp";
  alarm(60);  // a test that forgot us must not leave us behind forever

  int ls = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (ls < 0 || tmp.size() >= sizeof addr.sun_path) return fail(out, "socket");
  std::memcpy(addr.sun_path, tmp.c_str(), tmp.size());
  ::unlink(tmp.c_str());
  if (::bind(ls, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(ls, 1) != 0 ||
      ::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(out, std::string("listen: ") + std::strerror(errno));

  int conn = ::accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return fail(out, std::string("accept: ") + std::strerror(errno));
  char name[4096];
  iovec iov{name, sizeof name};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return fail(out, std::string("recvmsg: ") + std::strerror(errno));
  int fds = 0, master = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    fds += static_cast<int>(count);
    if (count >= 1) std::memcpy(&master, CMSG_DATA(c), sizeof master);
  }
  if (fds != 1) return fail(out, "expected exactly one fd, got " + std::to_string(fds));
  // The sender closes after its one message.
  char extra;
  if (::recv(conn, &extra, 1, 0) != 0) return fail(out, "more than one message on the console socket");
  ::close(conn);

  FILE* nf = std::fopen((out + ".name").c_str(), "w");
  if (!nf) return fail(out, "open OUT.name");
  std::fwrite(name, 1, static_cast<size_t>(n), nf);
  std::fclose(nf);

  int of = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (of < 0) return fail(out, "open OUT");
  if (argc > 3) {
    std::string input = argv[3];
    if (::write(master, input.data(), input.size()) != static_cast<ssize_t>(input.size()))
      return fail(out, "write input");
  }
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(master, buf, sizeof buf);
    if (r > 0) {
      if (::write(of, buf, static_cast<size_t>(r)) != r) return fail(out, "write OUT");
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    break;  // EIO: every holder of the slave is gone
  }
  ::close(of);
  return 0;
}
