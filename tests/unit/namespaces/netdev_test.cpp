#include "namespaces/netdev.hpp"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace berth::namespaces {
namespace {

using netlink::Address;

Address sampleV4() {
  Address a;
  a.family = AF_INET;
  a.prefixLen = 24;
  a.scope = RT_SCOPE_UNIVERSE;
  a.flags = IFA_F_PERMANENT | IFA_F_NOPREFIXROUTE;
  a.local = {10, 1, 2, 3};
  a.address = {10, 1, 2, 3};
  a.broadcast = {10, 1, 2, 255};
  return a;
}

TEST(NetDevAddress, OnlyPermanentGlobalAddressesArePreserved) {
  Address a = sampleV4();
  EXPECT_TRUE(netlink::preserved(a));
  a.scope = RT_SCOPE_LINK;
  EXPECT_FALSE(netlink::preserved(a)) << "link scope stays behind";
  a = sampleV4();
  a.flags = IFA_F_NOPREFIXROUTE;  // e.g. a DHCP lease with a lifetime
  EXPECT_FALSE(netlink::preserved(a)) << "a dynamic address stays behind";
}

TEST(NetDevAddress, AddRequestRoundTrips) {
  auto req = netlink::newAddressRequest(sampleV4(), 7, 42);
  nlmsghdr h;
  std::memcpy(&h, req.data(), sizeof h);
  EXPECT_EQ(h.nlmsg_len, req.size());
  EXPECT_EQ(h.nlmsg_seq, 42u);
  EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  Address back;
  int index = 0;
  ASSERT_TRUE(netlink::parseAddress(req.data(), req.size(), back, index));
  EXPECT_EQ(index, 7);
  EXPECT_EQ(back.family, AF_INET);
  EXPECT_EQ(back.prefixLen, 24);
  EXPECT_EQ(back.local, sampleV4().local);
  EXPECT_EQ(back.address, sampleV4().address);
  EXPECT_EQ(back.broadcast, sampleV4().broadcast);
  // Only user-settable flags are sent; PERMANENT is the kernel's to set.
  EXPECT_EQ(back.flags, static_cast<uint32_t>(IFA_F_NOPREFIXROUTE));
}

TEST(NetDevAddress, TruncatedMessageIsRejected) {
  auto req = netlink::newAddressRequest(sampleV4(), 7, 1);
  Address out;
  int index = 0;
  EXPECT_FALSE(netlink::parseAddress(req.data(), NLMSG_HDRLEN + 2, out, index));
  auto wrongType = req;
  reinterpret_cast<nlmsghdr*>(wrongType.data())->nlmsg_type = RTM_NEWLINK;
  EXPECT_FALSE(netlink::parseAddress(wrongType.data(), wrongType.size(), out, index));
}

TEST(NetDevLink, MoveRequestCarriesNamespaceFdAndName) {
  auto req = netlink::moveLinkRequest(5, 9, "eth1", 3);
  nlmsghdr h;
  std::memcpy(&h, req.data(), sizeof h);
  ASSERT_EQ(h.nlmsg_len, req.size());
  EXPECT_EQ(h.nlmsg_type, RTM_NEWLINK);
  ifinfomsg ifi;
  std::memcpy(&ifi, req.data() + NLMSG_HDRLEN, sizeof ifi);
  EXPECT_EQ(ifi.ifi_index, 5);
  size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof ifi);
  bool sawFd = false, sawName = false;
  while (off + NLA_HDRLEN <= req.size()) {
    nlattr a;
    std::memcpy(&a, req.data() + off, sizeof a);
    ASSERT_GE(a.nla_len, NLA_HDRLEN);
    const uint8_t* d = req.data() + off + NLA_HDRLEN;
    if (a.nla_type == IFLA_NET_NS_FD) {
      uint32_t fd;
      std::memcpy(&fd, d, 4);
      EXPECT_EQ(fd, 9u);
      sawFd = true;
    } else if (a.nla_type == IFLA_IFNAME) {
      EXPECT_STREQ(reinterpret_cast<const char*>(d), "eth1");
      sawName = true;
    }
    off += NLA_ALIGN(a.nla_len);
  }
  EXPECT_TRUE(sawFd);
  EXPECT_TRUE(sawName);
}

TEST(NetDevMove, RefusesANamespaceThatIsNotNew) {
  Plan plan;  // network joined by path, or none
  auto r = moveNetDevices({{"eth0", {}}}, plan, ::getpid(), -1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "linux.netDevices: requires a new network namespace (not one joined by path)");
}

TEST(NetDevMove, NothingToMoveIsNotAnError) {
  Plan plan;
  EXPECT_TRUE(moveNetDevices({}, plan, ::getpid(), -1).ok());
}

// The real thing without touching the host: in a user + network namespace
// of our own ("host"), a veth end moves into a child's new network
// namespace. Runs in a forked child; its exit code is the verdict.
int moveInPrivateNamespaces() {
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) return 77;
  // Mapped to root inside, so the `ip` we exec keeps its capabilities.
  auto write = [](const char* path, const std::string& s) {
    FILE* f = std::fopen(path, "w");
    if (!f) return false;
    bool ok = std::fputs(s.c_str(), f) >= 0;
    return std::fclose(f) == 0 && ok;
  };
  if (!write("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") || !write("/proc/self/setgroups", "deny") ||
      !write("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n"))
    return 77;
  if (std::system("ip link add bt0 type veth peer name bt0p >/dev/null 2>&1") != 0) return 77;
  if (std::system("ip addr add 10.9.9.9/24 dev bt0 && ip link set lo up") != 0) return 10;
  int ready[2];
  if (::pipe(ready) != 0) return 11;
  pid_t target = ::fork();
  if (target == 0) {
    if (::unshare(CLONE_NEWNET) != 0) _exit(1);
    char c = 'r';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    _exit(0);
  }
  char c;
  if (::read(ready[0], &c, 1) != 1) return 12;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, target, 0));
  Plan plan;
  plan.newNet = true;
  auto r = moveNetDevices({{"bt0", spec::NetDevice{"eth3"}}}, plan, target, pidfd);
  int code = 0;
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().message().c_str());
    code = 13;
  } else {
    std::string cmd = "nsenter -t " + std::to_string(target) +
                      " -n ip -o -4 addr show dev eth3 | grep -q 'inet 10.9.9.9/24'";
    if (std::system(cmd.c_str()) != 0) code = 14;
    cmd = "nsenter -t " + std::to_string(target) + " -n cat /sys/class/net/eth3/operstate >/dev/null 2>&1 || "
          "nsenter -t " + std::to_string(target) + " -n ip link show dev eth3 | grep -q UP";
    if (code == 0 && std::system(cmd.c_str()) != 0) code = 15;
    if (code == 0 && std::system("ip link show dev bt0 >/dev/null 2>&1") == 0) code = 16;  // still here
    auto missing = moveNetDevices({{"bt9", {}}}, plan, target, pidfd);
    if (code == 0 && (missing.ok() || missing.error().message() != "linux.netDevices[\"bt9\"]: no such network interface"))
      code = 17;
  }
  ::kill(target, SIGKILL);
  ::waitpid(target, nullptr, 0);
  return code;
}

TEST(NetDevMove, MovesRenamesAndKeepsTheAddressInPrivateNamespaces) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(moveInPrivateNamespaces());
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no unprivileged user+network namespace, or no veth";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "step that failed: see moveInPrivateNamespaces";
}

}  // namespace
}  // namespace berth::namespaces
