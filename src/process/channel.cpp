#include "process/channel.hpp"

#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <vector>

namespace berth::process {
namespace {

struct Header {
  uint32_t type;
  int32_t errnum;
};

constexpr size_t kMaxMessage = 64 * 1024;

}  // namespace

const char* msgName(Msg m) {
  switch (m) {
    case Msg::Error: return "Error";
    case Msg::IdMapsWritten: return "IdMapsWritten";
    case Msg::InitPid: return "InitPid";
    case Msg::RunCreateHooks: return "RunCreateHooks";
    case Msg::HooksDone: return "HooksDone";
    case Msg::Ready: return "Ready";
    case Msg::Start: return "Start";
    case Msg::NeedIdMaps: return "NeedIdMaps";
    case Msg::SeccompFd: return "SeccompFd";
    case Msg::CgroupJoined: return "CgroupJoined";
  }
  return "unknown";
}

Result<std::pair<Channel, Channel>> Channel::pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    return Error::fromErrno("socketpair");
  return std::make_pair(Channel(UniqueFd(fds[0])), Channel(UniqueFd(fds[1])));
}

Status Channel::send(Msg type, const std::string& payload, int32_t errnum) {
  if (payload.size() + sizeof(Header) > kMaxMessage) return Error(std::string("message too large: ") + msgName(type));
  Header h{static_cast<uint32_t>(type), errnum};
  iovec iov[2] = {{&h, sizeof h}, {const_cast<char*>(payload.data()), payload.size()}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = payload.empty() ? 1 : 2;
  for (;;) {
    ssize_t n = ::sendmsg(fd_.get(), &mh, MSG_NOSIGNAL);
    if (n >= 0) return {};
    if (errno != EINTR) return Error::fromErrno(std::string("send ") + msgName(type));
  }
}

Status Channel::sendError(const Error& err) { return send(Msg::Error, err.message(), err.code()); }

Result<Message> Channel::receive() {
  // Not zeroed: a value-initialised 64 KiB buffer costs 16 page faults
  // (copy-on-write ones in the init) for messages of a few bytes.
  auto buf = std::make_unique_for_overwrite<char[]>(kMaxMessage);
  ssize_t n;
  do {
    n = ::recv(fd_.get(), buf.get(), kMaxMessage, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::fromErrno("receive");
  if (n == 0) return Error("peer closed the channel", EPIPE);
  if (static_cast<size_t>(n) < sizeof(Header)) return Error("short message on channel");
  Header h;
  std::memcpy(&h, buf.get(), sizeof h);
  Message m;
  m.type = static_cast<Msg>(h.type);
  m.errnum = h.errnum;
  m.payload.assign(buf.get() + sizeof h, static_cast<size_t>(n) - sizeof h);
  return m;
}

Result<Message> Channel::expect(Msg type) {
  auto m = receive();
  if (!m) {
    if (m.error().code() == EPIPE) return Error(std::string("container init exited while waiting for ") + msgName(type));
    return std::move(m).error();
  }
  if (m->type == Msg::Error) {
    // The peer's chain is already complete; carry it verbatim. Its errno text
    // is part of the payload, so keep the code out of message() to avoid
    // printing strerror twice.
    Error e(m->payload);
    return e;
  }
  if (m->type != type)
    return Error(std::string("protocol error: expected ") + msgName(type) + ", got " + msgName(m->type));
  return m;
}

Status Channel::sendFd(Msg type, int fd) { return sendFds(type, {fd}); }

Result<UniqueFd> Channel::expectFd(Msg type) {
  auto fds = TRY(expectFds(type));
  if (fds.size() != 1) return Error(std::string("protocol error: ") + msgName(type) + " without a descriptor");
  return std::move(fds.front());
}

Status Channel::sendFds(Msg type, const std::vector<int>& fds) {
  if (fds.size() > kMaxFds) return Error(std::string("send ") + msgName(type) + ": too many descriptors");
  Header h{static_cast<uint32_t>(type), 0};
  iovec iov{&h, sizeof h};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (!fds.empty()) {
    mh.msg_control = control;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(fd_.get(), &mh, MSG_NOSIGNAL) >= 0) return {};
    if (errno != EINTR) return Error::fromErrno(std::string("send ") + msgName(type));
  }
}

Result<std::vector<UniqueFd>> Channel::expectFds(Msg type) {
  // Not zeroed: a value-initialised 64 KiB buffer costs 16 page faults
  // (copy-on-write ones in the init) for messages of a few bytes.
  auto buf = std::make_unique_for_overwrite<char[]>(kMaxMessage);
  iovec iov{buf.get(), kMaxMessage};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(fd_.get(), &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::fromErrno("receive");
  if (n == 0) return Error(std::string("container init exited while waiting for ") + msgName(type));
  std::vector<UniqueFd> got;  // owned at once, so every error path below closes them
  for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      got.emplace_back(fd);
    }
  }
  if (mh.msg_flags & MSG_CTRUNC) return Error(std::string("protocol error: ") + msgName(type) + ": descriptors truncated");
  if (static_cast<size_t>(n) < sizeof(Header)) return Error("short message on channel");
  Header h;
  std::memcpy(&h, buf.get(), sizeof h);
  if (static_cast<Msg>(h.type) == Msg::Error) return Error(std::string(buf.get() + sizeof h, static_cast<size_t>(n) - sizeof h));
  if (static_cast<Msg>(h.type) != type)
    return Error(std::string("protocol error: expected ") + msgName(type) + ", got " + msgName(static_cast<Msg>(h.type)));
  return got;
}

}  // namespace berth::process
