// The parent/child channel: typed messages, errors carried whole, EOF as the
// signal that the child exec'd.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process/channel.hpp"

namespace berth::process {
namespace {

TEST(Channel, MessagesKeepTypeAndPayload) {
  auto pair = Channel::pair();
  ASSERT_TRUE(pair.ok());
  auto& [a, b] = *pair;
  ASSERT_TRUE(a.send(Msg::HooksDone, "{\"id\":\"x\"}").ok());
  ASSERT_TRUE(a.send(Msg::Start).ok());
  auto m1 = b.expect(Msg::HooksDone);
  ASSERT_TRUE(m1.ok()) << m1.error().message();
  EXPECT_EQ(m1->payload, "{\"id\":\"x\"}");
  auto m2 = b.expect(Msg::Start);
  ASSERT_TRUE(m2.ok());
  EXPECT_TRUE(m2->payload.empty());
}

// CgroupJoined carries the v1 `tasks` fds: many, or none.
TEST(Channel, FdsArriveInOrderAndNoneIsAPlainMessage) {
  auto pair = Channel::pair();
  ASSERT_TRUE(pair.ok());
  auto& [a, b] = *pair;
  int p1[2], p2[2];
  ASSERT_EQ(::pipe(p1), 0);
  ASSERT_EQ(::pipe(p2), 0);
  ASSERT_TRUE(a.sendFds(Msg::CgroupJoined, {p1[1], p2[1]}).ok());
  ASSERT_TRUE(a.sendFds(Msg::CgroupJoined, {}).ok());
  auto got = b.expectFds(Msg::CgroupJoined);
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 2u);
  ASSERT_EQ(::write((*got)[0].get(), "1", 1), 1);
  ASSERT_EQ(::write((*got)[1].get(), "2", 1), 1);
  char c1 = 0, c2 = 0;
  ASSERT_EQ(::read(p1[0], &c1, 1), 1);
  ASSERT_EQ(::read(p2[0], &c2, 1), 1);
  EXPECT_EQ(c1, '1');
  EXPECT_EQ(c2, '2');
  EXPECT_TRUE(::fcntl((*got)[0].get(), F_GETFD) & FD_CLOEXEC);
  auto none = b.expectFds(Msg::CgroupJoined);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  for (int fd : {p1[0], p1[1], p2[0], p2[1]}) ::close(fd);
}

TEST(Channel, OutOfOrderMessageIsAProtocolError) {
  auto pair = Channel::pair();
  auto& [a, b] = *pair;
  ASSERT_TRUE(a.send(Msg::Ready).ok());
  auto m = b.expect(Msg::RunCreateHooks);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message(), "protocol error: expected RunCreateHooks, got Ready");
}

TEST(Channel, ErrorMessageCarriesTheChildsChain) {
  auto pair = Channel::pair();
  auto& [a, b] = *pair;
  Error e = Error("mount proc on /proc", EPERM);
  e.context("rootfs");
  ASSERT_TRUE(a.sendError(e).ok());
  auto m = b.expect(Msg::Ready);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message(), "rootfs: mount proc on /proc: Operation not permitted");
}

TEST(Channel, ExecInTheChildIsSeenAsEof) {
  auto pair = Channel::pair();
  auto& [parent, child] = *pair;
  pid_t pid = ::fork();
  if (pid == 0) {
    parent.close();
    // The child's end is O_CLOEXEC: a successful exec closes it.
    ::execl("/bin/true", "true", static_cast<char*>(nullptr));
    _exit(127);
  }
  child.close();
  auto m = parent.receive();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), EPIPE);
  ::waitpid(pid, nullptr, 0);
}

TEST(Channel, ChildDyingMidProtocolIsReported) {
  auto pair = Channel::pair();
  auto& [parent, child] = *pair;
  pid_t pid = ::fork();
  if (pid == 0) {
    parent.close();
    _exit(1);
  }
  child.close();
  auto m = parent.expect(Msg::Ready);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message(), "container init exited while waiting for Ready");
  ::waitpid(pid, nullptr, 0);
}

TEST(Channel, OversizedMessageIsRefused) {
  auto pair = Channel::pair();
  auto& [a, b] = *pair;
  (void)b;
  EXPECT_FALSE(a.send(Msg::HooksDone, std::string(70000, 'x')).ok());
}

}  // namespace
}  // namespace berth::process
