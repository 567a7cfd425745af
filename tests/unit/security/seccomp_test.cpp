#include "security/seccomp.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "child_helpers.hpp"

namespace berth::security {
namespace {

using ::testing::HasSubstr;
using testing::inChild;

spec::SeccompSyscall rule(std::vector<std::string> names, std::string action, std::optional<uint32_t> errnoRet = {}) {
  spec::SeccompSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  s.errnoRet = errnoRet;
  return s;
}

spec::Seccomp allowAllBut(std::vector<spec::SeccompSyscall> rules) {
  spec::Seccomp sc;
  sc.defaultAction = "SCMP_ACT_ALLOW";
  sc.syscalls = std::move(rules);
  return sc;
}

// Loads the program in a child (with no_new_privs, so no privilege is
// needed) and reports what getppid's denial looked like.
std::string runWithFilter(const SeccompProgram& prog, const std::function<std::string()>& probe) {
  auto r = inChild([&] {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return std::string("nnp failed");
    auto fd = loadSeccomp(prog);
    if (!fd) return "load: " + fd.error().message();
    return probe();
  });
  if (WIFSIGNALED(r.waitStatus)) return "signal " + std::to_string(WTERMSIG(r.waitStatus));
  return r.output;
}

std::string errnoOfGetppid() {
  errno = 0;
  long rc = ::syscall(SYS_getppid);
  return rc < 0 ? "errno " + std::to_string(errno) : "ok";
}

TEST(SeccompAction, MapsEveryName) {
  EXPECT_EQ(*seccompAction("SCMP_ACT_ALLOW", {}), SCMP_ACT_ALLOW);
  EXPECT_EQ(*seccompAction("SCMP_ACT_KILL", {}), SCMP_ACT_KILL_THREAD);
  EXPECT_EQ(*seccompAction("SCMP_ACT_KILL_THREAD", {}), SCMP_ACT_KILL_THREAD);
  EXPECT_EQ(*seccompAction("SCMP_ACT_KILL_PROCESS", {}), SCMP_ACT_KILL_PROCESS);
  EXPECT_EQ(*seccompAction("SCMP_ACT_TRAP", {}), SCMP_ACT_TRAP);
  EXPECT_EQ(*seccompAction("SCMP_ACT_LOG", {}), SCMP_ACT_LOG);
  EXPECT_EQ(*seccompAction("SCMP_ACT_NOTIFY", {}), SCMP_ACT_NOTIFY);
  EXPECT_EQ(*seccompAction("SCMP_ACT_ERRNO", {}), SCMP_ACT_ERRNO(EPERM));
  EXPECT_EQ(*seccompAction("SCMP_ACT_ERRNO", 28u), SCMP_ACT_ERRNO(28));
  EXPECT_EQ(*seccompAction("SCMP_ACT_TRACE", {}), SCMP_ACT_TRACE(EPERM));
  EXPECT_EQ(*seccompAction("SCMP_ACT_TRACE", 7u), SCMP_ACT_TRACE(7));
  EXPECT_FALSE(seccompAction("SCMP_ACT_NOPE", {}));
  EXPECT_FALSE(seccompAction("SCMP_ACT_ERRNO", 70000u));
}

TEST(BuildSeccomp, UnknownSyscallNamesTheField) {
  auto sc = allowAllBut({rule({"getcwd"}, "SCMP_ACT_ERRNO"), rule({"chmod"}, "SCMP_ACT_ERRNO"),
                         rule({"foo"}, "SCMP_ACT_ERRNO")});
  auto p = buildSeccomp(sc);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(), "linux.seccomp.syscalls[2].names[0]: unknown syscall \"foo\"");
}

TEST(BuildSeccomp, NewerSyscallsUnknownToLibseccompAreSkippedNotRefused) {
  auto sc = allowAllBut({rule({"getppid", "fchmodat2", "cachestat"}, "SCMP_ACT_ERRNO")});
  auto p = buildSeccomp(sc);
  ASSERT_TRUE(p) << p.error().message();
  // Whichever of them this libseccomp does not know is reported as skipped.
  for (const auto& s : p->skipped) EXPECT_EQ(seccomp_syscall_resolve_name(s.c_str()), __NR_SCMP_ERROR) << s;
}

TEST(BuildSeccomp, BadFieldsAreNamed) {
  auto sc = allowAllBut({rule({"getppid"}, "SCMP_ACT_ERRNO")});
  sc.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
  auto p = buildSeccomp(sc);
  ASSERT_FALSE(p);
  EXPECT_THAT(p.error().message(), HasSubstr("linux.seccomp.architectures[1]"));

  sc.architectures.clear();
  sc.flags = {"SECCOMP_FILTER_FLAG_BOGUS"};
  p = buildSeccomp(sc);
  ASSERT_FALSE(p);
  EXPECT_THAT(p.error().message(), HasSubstr("linux.seccomp.flags[0]"));

  sc.flags.clear();
  sc.syscalls[0].args = {spec::SeccompArg{7, 0, {}, "SCMP_CMP_EQ"}};
  p = buildSeccomp(sc);
  ASSERT_FALSE(p);
  EXPECT_THAT(p.error().message(), HasSubstr("linux.seccomp.syscalls[0].args[0]"));

  sc.syscalls[0].args = {spec::SeccompArg{0, 0, {}, "SCMP_CMP_ALMOST"}};
  p = buildSeccomp(sc);
  ASSERT_FALSE(p);
  EXPECT_THAT(p.error().message(), HasSubstr("linux.seccomp.syscalls[0].args[0].op"));

  sc.defaultAction = "SCMP_ACT_MAYBE";
  p = buildSeccomp(sc);
  ASSERT_FALSE(p);
  EXPECT_THAT(p.error().message(), HasSubstr("linux.seccomp.defaultAction"));
}

TEST(BuildSeccomp, NotifyIsDetectedInDefaultAndRules) {
  auto p = buildSeccomp(allowAllBut({rule({"getppid"}, "SCMP_ACT_NOTIFY")}));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_TRUE(p->notify);
  EXPECT_EQ(seccompLoadPoint(*p, true), SeccompLoadPoint::BeforeReady);
  p = buildSeccomp(allowAllBut({rule({"getppid"}, "SCMP_ACT_ERRNO")}));
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->notify);
  EXPECT_EQ(seccompLoadPoint(*p, true), SeccompLoadPoint::BeforeExec);
  EXPECT_EQ(seccompLoadPoint(*p, false), SeccompLoadPoint::BeforeCapabilities);
}

TEST(BuildSeccomp, FlagsPassThrough) {
  auto sc = allowAllBut({rule({"getppid"}, "SCMP_ACT_ERRNO")});
  sc.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto p = buildSeccomp(sc);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->flags, 2u | 4u);
}

TEST(LoadSeccomp, ErrnoRuleDeniesWithTheConfiguredErrno) {
  auto p = buildSeccomp(allowAllBut({rule({"getppid"}, "SCMP_ACT_ERRNO", 42u)}));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(runWithFilter(*p, errnoOfGetppid), "errno 42");
}

TEST(LoadSeccomp, ControlWithoutAFilterGetppidWorks) {
  auto p = buildSeccomp(allowAllBut({rule({"getpid"}, "SCMP_ACT_ERRNO", 42u)}));
  ASSERT_TRUE(p);
  EXPECT_EQ(runWithFilter(*p, errnoOfGetppid), "ok");
}

TEST(LoadSeccomp, DefaultErrnoRet) {
  spec::Seccomp sc;
  sc.defaultAction = "SCMP_ACT_ALLOW";
  sc.syscalls = {rule({"getppid"}, "SCMP_ACT_ERRNO")};
  auto p = buildSeccomp(sc);
  ASSERT_TRUE(p);
  EXPECT_EQ(runWithFilter(*p, errnoOfGetppid), "errno " + std::to_string(EPERM));
}

TEST(LoadSeccomp, KillProcessDiesOfSigsys) {
  auto p = buildSeccomp(allowAllBut({rule({"getppid"}, "SCMP_ACT_KILL_PROCESS")}));
  ASSERT_TRUE(p);
  EXPECT_EQ(runWithFilter(*p, errnoOfGetppid), "signal " + std::to_string(SIGSYS));
}

TEST(LoadSeccomp, ArgumentsOnDistinctIndexesAreAnded) {
  // kill(pid, sig) is denied only when both the pid and the signal match.
  spec::SeccompSyscall r = rule({"kill"}, "SCMP_ACT_ERRNO", 33u);
  r.args = {spec::SeccompArg{0, static_cast<uint64_t>(999999), {}, "SCMP_CMP_EQ"}, spec::SeccompArg{1, 0, {}, "SCMP_CMP_EQ"}};
  auto p = buildSeccomp(allowAllBut({r}));
  ASSERT_TRUE(p) << p.error().message();
  auto out = runWithFilter(*p, [] {
    std::string s;
    errno = 0;
    s += std::to_string(::kill(999999, 0) < 0 ? errno : 0) + ",";  // both match: denied
    errno = 0;
    s += std::to_string(::kill(::getpid(), 0) < 0 ? errno : 0);    // pid differs: real kill
    return s;
  });
  EXPECT_EQ(out, "33,0");
}

TEST(LoadSeccomp, ConditionsOnOneIndexAreOred) {
  spec::SeccompSyscall r = rule({"kill"}, "SCMP_ACT_ERRNO", 33u);
  r.args = {spec::SeccompArg{1, 0, {}, "SCMP_CMP_EQ"}, spec::SeccompArg{1, SIGCONT, {}, "SCMP_CMP_EQ"}};
  auto p = buildSeccomp(allowAllBut({r}));
  ASSERT_TRUE(p) << p.error().message();
  auto out = runWithFilter(*p, [] {
    std::string s;
    for (int sig : {0, SIGCONT, SIGWINCH}) s += std::to_string(::kill(::getpid(), sig) < 0 ? errno : 0) + ",";
    return s;
  });
  EXPECT_EQ(out, "33,33,0,");
}

TEST(LoadSeccomp, NotifyYieldsAListenerFd) {
  auto p = buildSeccomp(allowAllBut({rule({"getppid"}, "SCMP_ACT_NOTIFY")}));
  ASSERT_TRUE(p);
  auto out = runWithFilter(*p, [] { return std::string("loaded"); });
  EXPECT_EQ(out, "loaded");
  auto r = inChild([&] {
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    auto fd = loadSeccomp(*p);
    if (!fd) return fd.error().message();
    return std::string(fd->get() > 2 ? "fd" : "no fd");
  });
  EXPECT_EQ(r.output, "fd");
}

TEST(ContainerProcessState, ShapeAndEscaping) {
  std::string s = containerProcessState("1.2.0", 42, std::string("a\"b\\c\n"), R"({"id":"x","status":"creating"})");
  auto j = nlohmann::json::parse(s);
  EXPECT_EQ(j["ociVersion"], "1.2.0");
  EXPECT_EQ(j["fds"], nlohmann::json({"seccompFd"}));
  EXPECT_EQ(j["pid"], 42);
  EXPECT_EQ(j["metadata"], "a\"b\\c\n");
  EXPECT_EQ(j["state"]["status"], "creating");
  auto noMeta = nlohmann::json::parse(containerProcessState("1.2.0", 1, std::nullopt, "{}"));
  EXPECT_FALSE(noMeta.contains("metadata"));
}

TEST(SendToSeccompListener, NoListenerIsAnError) {
  auto st = sendToSeccompListener("/nonexistent/berth-agent.sock", 0, "{}");
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("connect /nonexistent/berth-agent.sock"));
}

}  // namespace
}  // namespace berth::security
