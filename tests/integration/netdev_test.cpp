// linux.netDevices and linux.intelRdt, seen from inside and from the host.
//
// Each netDevices test makes its own veth pairs on the host (this kernel
// has no dummy driver), gives one end a permanent global IPv4 address and a
// link-scope one, and removes whatever is left at teardown. veths are
// virtual: when the container's network namespace dies the kernel destroys
// the end inside, and with it the peer (runtime-spec: physical devices
// return to the initial namespace, virtual ones are destroyed).
#include <chrono>
#include <thread>

#include "harness.hpp"

namespace berth::it {
namespace {

bool hostHasLink(const std::string& name) {
  return runProcess({"ip", "link", "show", "dev", name}).status == 0;
}

// Network namespaces are freed by a kernel worker, a little after the last
// process leaves.
bool waitLinkGone(const std::string& name, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (hostHasLink(name)) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

class NetDevices : public RuntimeTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(RuntimeTest::SetUp());
    if (!isBerth()) GTEST_SKIP() << "runc 1.1 ignores linux.netDevices (added in runc 1.3)";
  }
  void TearDown() override {
    for (const auto& n : made_) runProcess({"ip", "link", "del", "dev", n});
    RuntimeTest::TearDown();
  }
  // A host veth `name` (peer `name`p) with 10.199.<octet>.1/24 (permanent,
  // global scope) and 169.254.<octet>.1/16 scope link, up.
  void makeVeth(const std::string& name, int octet) {
    runProcess({"ip", "link", "del", "dev", name});  // left over from an aborted run
    runProcess({"ip", "link", "del", "dev", name + "p"});
    ProcResult r = runProcess({"ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"});
    ASSERT_EQ(r.status, 0) << "ip link add: " << r.err;
    made_.push_back(name);
    made_.push_back(name + "p");
    std::string o = std::to_string(octet);
    ASSERT_EQ(runProcess({"ip", "addr", "add", "10.199." + o + ".1/24", "dev", name}).status, 0);
    ASSERT_EQ(runProcess({"ip", "addr", "add", "169.254." + o + ".1/16", "scope", "link", "dev", name}).status, 0);
    ASSERT_EQ(runProcess({"ip", "link", "set", "dev", name, "up"}).status, 0);
  }
  void expectCleanFailure(const ProcResult& r, const std::string& mention) {
    EXPECT_EQ(r.status, 1) << r.err;
    auto errLines = lines(r.err);
    EXPECT_EQ(errLines.size(), 1u) << "one error line:\n" << r.err;
    EXPECT_NE(r.err.find(mention), std::string::npos) << r.err;
    expectNothingLeft(id_);
  }
  std::vector<std::string> made_;
};

TEST_F(NetDevices, MovedRenamedWithItsGlobalAddressAndUp) {
  ASSERT_NO_FATAL_FAILURE(makeVeth("berthveth0", 1));
  config_["linux"]["netDevices"] = {{"berthveth0", {{"name", "eth1"}}}};
  ProcResult r = runSh(
      "ls /sys/class/net; echo --; ip -o -4 addr show dev eth1; echo --; "
      "cat /sys/class/net/eth1/flags");
  ASSERT_EQ(r.status, 0) << r.err;
  auto parts = r.out;
  auto firstSep = parts.find("--\n");
  ASSERT_NE(firstSep, std::string::npos) << r.out;
  auto names = lines(parts.substr(0, firstSep));
  EXPECT_EQ(names, (std::vector<std::string>{"eth1", "lo"})) << r.out;
  std::string rest = parts.substr(firstSep + 3);
  auto secondSep = rest.find("--\n");
  ASSERT_NE(secondSep, std::string::npos) << r.out;
  std::string addrs = rest.substr(0, secondSep);
  EXPECT_NE(addrs.find("10.199.1.1/24"), std::string::npos) << "the permanent global address travels:\n" << addrs;
  EXPECT_EQ(addrs.find("169.254."), std::string::npos) << "a link-scope address does not:\n" << addrs;
  unsigned long flags = std::stoul(trim(rest.substr(secondSep + 3)), nullptr, 16);
  EXPECT_TRUE(flags & 0x1) << "eth1 is up inside (IFF_UP), flags " << rest;
  // The container is gone, and its namespace with it: a virtual device
  // dies with the namespace, it is not moved back.
  EXPECT_TRUE(waitLinkGone("berthveth0")) << "the veth outlived the container's network namespace";
}

TEST_F(NetDevices, WithoutANameTheHostNameIsKept) {
  ASSERT_NO_FATAL_FAILURE(makeVeth("berthveth1", 2));
  config_["linux"]["netDevices"] = {{"berthveth1", Json::object()}};
  ProcResult r = runSh("ls /sys/class/net");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"berthveth1", "lo"})) << r.out;
}

TEST_F(NetDevices, PercentDTemplateLetsTheKernelPick) {
  ASSERT_NO_FATAL_FAILURE(makeVeth("berthveth2", 3));
  config_["linux"]["netDevices"] = {{"berthveth2", {{"name", "net%d"}}}};
  ProcResult r = runSh("ls /sys/class/net");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"lo", "net0"})) << r.out;
}

TEST_F(NetDevices, DeviceIsThereWhileCreatedAndGoneFromTheHost) {
  ASSERT_NO_FATAL_FAILURE(makeVeth("berthveth3", 4));
  config_["linux"]["netDevices"] = {{"berthveth3", {{"name", "eth7"}}}};
  config_["process"]["args"] = {"/bin/sleep", "30"};
  ProcResult c = create(id_);
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_FALSE(hostHasLink("berthveth3")) << "the device left the host";
  Json st = state(id_);
  ASSERT_TRUE(st.is_object());
  int pid = st["pid"].get<int>();
  ProcResult inside = runProcess({"nsenter", "-t", std::to_string(pid), "-n", "ip", "-o", "-4", "addr", "show", "dev", "eth7"});
  EXPECT_EQ(inside.status, 0) << inside.err;
  EXPECT_NE(inside.out.find("10.199.4.1/24"), std::string::npos) << inside.out;
  ASSERT_EQ(rt({"delete", "--force", id_}).status, 0);
  EXPECT_TRUE(waitLinkGone("berthveth3"));
}

TEST_F(NetDevices, MissingDeviceFailsAndMovesNothing) {
  ASSERT_NO_FATAL_FAILURE(makeVeth("berthveth4", 5));
  // Entries are handled in name order: the existing one comes first.
  config_["linux"]["netDevices"] = {{"berthveth4", {{"name", "eth1"}}}, {"eth9", Json::object()}};
  config_["process"]["args"] = {"/bin/true"};
  ProcResult r = create(id_);
  expectCleanFailure(r, "linux.netDevices[\"eth9\"]: no such network interface");
  EXPECT_TRUE(hostHasLink("berthveth4")) << "a failed create must leave the other device on the host";
  ProcResult addr = runProcess({"ip", "-o", "-4", "addr", "show", "dev", "berthveth4"});
  EXPECT_NE(addr.out.find("10.199.5.1/24"), std::string::npos) << addr.out;
}

TEST_F(NetDevices, NameTakenInsideIsAnError) {
  ASSERT_NO_FATAL_FAILURE(makeVeth("berthveth5", 6));
  config_["linux"]["netDevices"] = {{"berthveth5", {{"name", "lo"}}}};
  config_["process"]["args"] = {"/bin/true"};
  ProcResult r = create(id_);
  expectCleanFailure(r, "linux.netDevices[\"berthveth5\"]: a network interface named \"lo\" already exists");
  EXPECT_TRUE(hostHasLink("berthveth5"));
}

TEST_F(NetDevices, JoinedNetworkNamespaceIsRefused) {
  ASSERT_NO_FATAL_FAILURE(makeVeth("berthveth6", 7));
  for (auto& ns : config_["linux"]["namespaces"])
    if (ns["type"] == "network") ns["path"] = "/proc/self/ns/net";
  config_["linux"]["netDevices"] = {{"berthveth6", Json::object()}};
  config_["process"]["args"] = {"/bin/true"};
  ProcResult r = create(id_);
  expectCleanFailure(r, "linux.netDevices: requires a new network namespace");
  EXPECT_TRUE(hostHasLink("berthveth6"));
}

TEST_F(NetDevices, FailedMoveLeavesEarlierDevicesOnTheHost) {
  // Two devices renamed to the same name: the second move fails inside the
  // kernel, after the first one went in; the first must come back.
  ASSERT_NO_FATAL_FAILURE(makeVeth("berthveth7", 8));
  ASSERT_NO_FATAL_FAILURE(makeVeth("berthveth8", 9));
  config_["linux"]["netDevices"] = {{"berthveth7", {{"name", "eth1"}}}, {"berthveth8", {{"name", "eth1"}}}};
  config_["process"]["args"] = {"/bin/true"};
  ProcResult r = create(id_);
  expectCleanFailure(r, "linux.netDevices[\"berthveth8\"]");
  EXPECT_TRUE(hostHasLink("berthveth7")) << "moved back under its host name";
  EXPECT_TRUE(hostHasLink("berthveth8"));
  ProcResult addr = runProcess({"ip", "-o", "-4", "addr", "show", "dev", "berthveth7"});
  EXPECT_NE(addr.out.find("10.199.8.1/24"), std::string::npos) << "its address came back too: " << addr.out;
}

using IntelRdt = RuntimeTest;

TEST_F(IntelRdt, WithoutResctrlCreateFails) {
  if (readFile("/proc/self/mountinfo").find(" /sys/fs/resctrl ") != std::string::npos)
    GTEST_SKIP() << "this host has resctrl mounted";
  config_["linux"]["intelRdt"] = {{"closID", "berth-it"}, {"l3CacheSchema", "L3:0=f"}};
  config_["process"]["args"] = {"/bin/true"};
  ProcResult r = create(id_);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(r.out, "");
  if (isBerth()) {
    EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
    EXPECT_NE(r.err.find("linux.intelRdt: resctrl is not mounted at /sys/fs/resctrl"), std::string::npos) << r.err;
  }
  expectNothingLeft(id_);
}

}  // namespace
}  // namespace berth::it
