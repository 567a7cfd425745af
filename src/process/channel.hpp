// The parent/child channel: a SOCK_SEQPACKET socketpair, so each send is one
// message and message boundaries survive. Messages are typed; the receiver
// names the type it expects and anything else (except an Error) is a
// protocol violation. An Error message carries the child's whole error chain
// and errno: the child never prints, the parent reports.
//
// The protocol (who sends what, when) is the table in docs/architecture.md
// and in process/init.hpp; keep the three in step.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/unique_fd.hpp"

namespace berth::process {

enum class Msg : uint32_t {
  Error = 1,           // child -> parent: payload = error chain, errnum = errno
  IdMapsWritten = 2,   // parent -> child: uid/gid maps are in place
  InitPid = 3,         // stage-1 child -> parent: host pid of the init (payload = decimal pid)
  RunCreateHooks = 4,  // child -> parent: mounts are done; run prestart + createRuntime hooks
  HooksDone = 5,       // parent -> child: hooks succeeded (payload = state JSON for createContainer hooks)
  Ready = 6,           // child -> parent: container created, waiting for start
  Start = 7,           // parent -> child: start now (run; create uses exec.fifo instead)
  NeedIdMaps = 8,      // stage-1 child -> parent: unshared a user ns, write maps for me (payload = pid)
  SeccompFd = 9,       // child -> parent: the seccomp notify listener fd (SCM_RIGHTS), before Ready
  CgroupJoined = 10,   // parent -> child: the init is in its cgroup (every hierarchy) with its limits set
};

const char* msgName(Msg m);

struct Message {
  Msg type = Msg::Error;
  int32_t errnum = 0;
  std::string payload;
};

class Channel {
 public:
  Channel() = default;
  explicit Channel(UniqueFd fd) : fd_(std::move(fd)) {}

  // A connected pair: first for the parent, second for the child.
  static Result<std::pair<Channel, Channel>> pair();

  Status send(Msg type, const std::string& payload = {}, int32_t errnum = 0);
  // Sends an Error message carrying `err`.
  Status sendError(const Error& err);
  // Receives one message. EOF (peer closed, e.g. the child exec'd: the
  // child's end is O_CLOEXEC) is returned as an Error with code EPIPE.
  Result<Message> receive();
  // Receives and checks the type; an Error message becomes the returned Error.
  Result<Message> expect(Msg type);
  // A message carrying one fd (SCM_RIGHTS); the receiver gets it O_CLOEXEC.
  Status sendFd(Msg type, int fd);
  Result<UniqueFd> expectFd(Msg type);
  // A message carrying any number of fds (none is a plain message), up to
  // kMaxFds; the receiver gets them O_CLOEXEC, in order.
  static constexpr size_t kMaxFds = 32;
  Status sendFds(Msg type, const std::vector<int>& fds);
  Result<std::vector<UniqueFd>> expectFds(Msg type);

  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

 private:
  UniqueFd fd_;
};

}  // namespace berth::process
