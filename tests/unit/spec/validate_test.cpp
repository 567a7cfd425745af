#include "spec/validate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "spec/known.hpp"
#include "spec/parse.hpp"
#include "test_util.hpp"

namespace berth::spec {
namespace {

using nlohmann::json;
using testing::kRemove;
using testing::readTestFile;
using testing::withValue;

Spec parseOrDie(const std::string& text) {
  auto r = parseConfig(text);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return r.ok() ? *r : Spec{};
}

TEST(Validate, FullConfigIsValid) {
  Spec s = parseOrDie(readTestFile("spec/full.json"));
  EXPECT_THAT(validationErrors(s), ::testing::IsEmpty());
  EXPECT_TRUE(validate(s).ok());
}

TEST(Validate, SchemaGoodSamplesAreValid) {
  // spec-example.json is left out: its ociVersion is "0.5.0-dev", from before 1.0.
  for (const char* good : {"minimal.json", "minimal-for-start.json", "linux-rdma.json"}) {
    Spec s = parseOrDie(readTestFile(std::string("schema/test/config/good/") + good));
    EXPECT_THAT(validationErrors(s), ::testing::IsEmpty()) << good;
  }
}

TEST(Validate, SchemaBadHugepageSampleIsRejected) {
  Spec s = parseOrDie(readTestFile("schema/test/config/bad/linux-hugepage.json"));
  auto st = validate(s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(),
            "config.json: linux.resources.hugepageLimits[0].pageSize: expected <size><K|M|G>B, got \"64kB\"");
}

struct BadCase {
  std::string pointer;
  json value;
  std::string message;  // without the "config.json: " prefix
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.pointer << " = " << c.value.dump(); }

class ValidateRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(ValidateRejects, ReportsPathAndProblem) {
  const BadCase& c = GetParam();
  Spec s = parseOrDie(withValue(c.pointer, c.value));
  std::vector<std::string> problems = validationErrors(s);
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  EXPECT_EQ(problems[0], c.message);
  auto st = validate(s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "config.json: " + c.message);
}

const json kNs(std::initializer_list<const char*> types) {
  json a = json::array();
  for (const char* t : types) a.push_back({{"type", t}});
  return a;
}

INSTANTIATE_TEST_SUITE_P(
    Checks, ValidateRejects,
    ::testing::Values(
        BadCase{"/ociVersion", "", "ociVersion: required field missing"},
        BadCase{"/ociVersion", "2.0.0", "ociVersion: unsupported version \"2.0.0\" (berth supports 1.x)"},
        BadCase{"/ociVersion", "1.0", "ociVersion: \"1.0\" is not a SemVer version"},
        BadCase{"/root", kRemove, "root: required field missing"},
        BadCase{"/root/path", "", "root.path: must not be empty"},
        BadCase{"/mounts/0/destination", "", "mounts[0].destination: must not be empty"},
        BadCase{"/mounts/1/gidMappings", kRemove, "mounts[1]: uidMappings and gidMappings must be given together"},
        BadCase{"/mounts/1/uidMappings/0/size", 0, "mounts[1].uidMappings[0].size: must be greater than 0"},
        BadCase{"/process/args", json::array(), "process.args: must have at least one entry"},
        BadCase{"/process/args/0", "", "process.args[0]: must not be empty"},
        BadCase{"/process/cwd", "root", "process.cwd: must be an absolute path, got \"root\""},
        BadCase{"/process/env/1", "TERM", "process.env[1]: \"TERM\" is not of the form KEY=value"},
        BadCase{"/process/env/0", "=x", "process.env[0]: \"=x\" is not of the form KEY=value"},
        BadCase{"/process/user/umask", 01000, "process.user.umask: must be at most 0777"},
        BadCase{"/process/capabilities/effective/1", "CAP_FLY", "process.capabilities.effective[1]: unknown capability \"CAP_FLY\""},
        BadCase{"/process/rlimits/0/type", "RLIMIT_FOO", "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
        BadCase{"/process/rlimits/1/type", "RLIMIT_CORE", "process.rlimits[1].type: duplicate rlimit \"RLIMIT_CORE\""},
        BadCase{"/process/rlimits/1/soft", 5000, "process.rlimits[1]: soft limit 5000 exceeds hard limit 4096"},
        BadCase{"/process/oomScoreAdj", 1001, "process.oomScoreAdj: 1001 is outside [-1000, 1000]"},
        BadCase{"/process/ioPriority/class", "IOPRIO_CLASS_NONE", "process.ioPriority.class: unknown class \"IOPRIO_CLASS_NONE\""},
        BadCase{"/process/ioPriority/priority", 8, "process.ioPriority.priority: must be in [0, 7]"},
        BadCase{"/process/scheduler/policy", "SCHED_FAST", "process.scheduler.policy: unknown policy \"SCHED_FAST\""},
        BadCase{"/process/scheduler/flags/0", "SCHED_FLAG_X", "process.scheduler.flags[0]: unknown flag \"SCHED_FLAG_X\""},
        BadCase{"/process/execCPUAffinity/initial", "0-", "process.execCPUAffinity.initial: not a CPU list: \"0-\""},
        BadCase{"/hooks/poststart/0/path", "notify", "hooks.poststart[0].path: must be an absolute path, got \"notify\""},
        BadCase{"/hooks/createRuntime/0/timeout", 0, "hooks.createRuntime[0].timeout: must be greater than 0"},
        BadCase{"/annotations/", "x", "annotations: keys must not be empty"},
        BadCase{"/linux/namespaces/2/type", "mnt", "linux.namespaces[2].type: unknown namespace type \"mnt\""},
        BadCase{"/linux/namespaces/2/type", "pid", "linux.namespaces[2].type: duplicate namespace \"pid\""},
        BadCase{"/linux/namespaces/1/path", "netns/a", "linux.namespaces[1].path: must be an absolute path, got \"netns/a\""},
        BadCase{"/linux/gidMappings", json::array(), "linux.gidMappings: a new user namespace needs gid mappings"},
        BadCase{"/linux/timeOffsets/realtime", {{"secs", 1}}, "linux.timeOffsets[\"realtime\"]: unknown clock (boottime or monotonic)"},
        BadCase{"/linux/timeOffsets/boottime/nanosecs", 1000000000, "linux.timeOffsets[\"boottime\"].nanosecs: must be below 1e9"},
        BadCase{"/linux/devices/0/type", "x", "linux.devices[0].type: must be one of c, b, u, p; got \"x\""},
        BadCase{"/linux/devices/1/path", "dev/f", "linux.devices[1].path: must be an absolute path, got \"dev/f\""},
        BadCase{"/linux/devices/0/major", -3, "linux.devices[0].major: must not be negative"},
        BadCase{"/linux/netDevices/eth1/name", "a/b", "linux.netDevices[\"eth1\"].name: invalid interface name \"a/b\""},
        BadCase{"/linux/cgroupsPath", "/a/../../b", "linux.cgroupsPath: must not contain \"..\""},
        BadCase{"/linux/resources/devices/1/type", "x", "linux.resources.devices[1].type: must be one of a, c, b; got \"x\""},
        BadCase{"/linux/resources/devices/1/access", "rwx", "linux.resources.devices[1].access: must be made of r, w, m; got \"rwx\""},
        BadCase{"/linux/resources/memory/swappiness", 101, "linux.resources.memory.swappiness: must be in [0, 100]"},
        BadCase{"/linux/resources/cpu/burst", 2000000, "linux.resources.cpu.burst: must not exceed quota"},
        BadCase{"/linux/resources/cpu/cpus", "1,,2", "linux.resources.cpu.cpus: not a CPU list: \"1,,2\""},
        BadCase{"/linux/resources/pids/limit", -2, "linux.resources.pids.limit: must be -1 (unlimited) or at least 0"},
        BadCase{"/linux/resources/blockIO/weightDevice/1/weight", kRemove, "linux.resources.blockIO.weightDevice[1]: needs weight or leafWeight"},
        BadCase{"/linux/resources/rdma/mlx4_0/hcaObjects", kRemove, "linux.resources.rdma[\"mlx4_0\"]: needs hcaHandles or hcaObjects"},
        BadCase{"/linux/resources/unified/..", "1", "linux.resources.unified[\"..\"]: must be a cgroup file name"},
        BadCase{"/linux/rootfsPropagation", "slaved", "linux.rootfsPropagation: must be shared, slave, private or unbindable; got \"slaved\""},
        BadCase{"/linux/seccomp/defaultAction", "SCMP_ACT_MAYBE", "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_MAYBE\""},
        BadCase{"/linux/seccomp/defaultAction", "SCMP_ACT_KILL", "linux.seccomp.defaultErrnoRet: not allowed with SCMP_ACT_KILL"},
        BadCase{"/linux/seccomp/architectures/1", "SCMP_ARCH_Z80", "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\""},
        BadCase{"/linux/seccomp/flags/0", "SECCOMP_FILTER_FLAG_X", "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_X\""},
        BadCase{"/linux/seccomp/syscalls/0/names", json::array(), "linux.seccomp.syscalls[0].names: must have at least one entry"},
        BadCase{"/linux/seccomp/syscalls/0/action", "ALLOW", "linux.seccomp.syscalls[0].action: unknown action \"ALLOW\""},
        BadCase{"/linux/seccomp/syscalls/0/errnoRet", 1, "linux.seccomp.syscalls[0].errnoRet: not allowed with SCMP_ACT_ALLOW"},
        BadCase{"/linux/seccomp/syscalls/1/args/0/index", 6, "linux.seccomp.syscalls[1].args[0].index: must be in [0, 5]"},
        BadCase{"/linux/seccomp/syscalls/1/args/0/op", "SCMP_CMP_XX", "linux.seccomp.syscalls[1].args[0].op: unknown operator \"SCMP_CMP_XX\""},
        BadCase{"/linux/sysctl/vm.swappiness", "1", "linux.sysctl[\"vm.swappiness\"]: not a namespaced sysctl"},
        BadCase{"/linux/maskedPaths/1", "proc/keys", "linux.maskedPaths[1]: must be an absolute path, got \"proc/keys\""},
        BadCase{"/linux/readonlyPaths/0", "", "linux.readonlyPaths[0]: must be an absolute path, got \"\""},
        BadCase{"/linux/intelRdt/memBwSchema", "L3:0=1", "linux.intelRdt.memBwSchema: must start with \"MB:\" and have no newline"},
        BadCase{"/linux/memoryPolicy/mode", "MPOL_FAST", "linux.memoryPolicy.mode: unknown mode \"MPOL_FAST\""},
        BadCase{"/linux/memoryPolicy/mode", "MPOL_LOCAL", "linux.memoryPolicy.nodes: must be empty with MPOL_LOCAL"},
        BadCase{"/linux/memoryPolicy/nodes", kRemove, "linux.memoryPolicy.nodes: required with MPOL_INTERLEAVE"},
        BadCase{"/linux/memoryPolicy/flags/0", "MPOL_F_X", "linux.memoryPolicy.flags[0]: unknown flag \"MPOL_F_X\""},
        BadCase{"/linux/personality/domain", "BSD", "linux.personality.domain: unknown domain \"BSD\""},
        BadCase{"/linux/personality/flags", {"X"}, "linux.personality.flags: no flags are supported"}));

// Checks whose trigger needs more than one field changed.
Spec minimal(const json& linux) {
  json doc = {{"ociVersion", "1.3.0"}, {"root", {{"path", "rootfs"}}}};
  if (!linux.is_null()) doc["linux"] = linux;
  return parseOrDie(doc.dump());
}

std::vector<std::string> errorsWith(const json& top, const json& linux) {
  json doc = {{"ociVersion", "1.3.0"}, {"root", {{"path", "rootfs"}}}};
  if (top.is_object()) doc.update(top);
  if (!linux.is_null()) doc["linux"] = linux;
  return validationErrors(parseOrDie(doc.dump()));
}

TEST(Validate, HostnameAndDomainnameNeedUts) {
  EXPECT_THAT(errorsWith({{"hostname", "h"}}, json()), ::testing::ElementsAre("hostname: requires a uts namespace"));
  EXPECT_THAT(errorsWith({{"domainname", "d"}}, {{"namespaces", kNs({"pid"})}}),
              ::testing::ElementsAre("domainname: requires a uts namespace"));
  EXPECT_THAT(errorsWith({{"hostname", "h"}}, {{"namespaces", kNs({"uts"})}}), ::testing::IsEmpty());
}

TEST(Validate, SysctlNeedsItsNamespace) {
  EXPECT_THAT(errorsWith({}, {{"sysctl", {{"net.core.somaxconn", "1"}}}}),
              ::testing::ElementsAre("linux.sysctl[\"net.core.somaxconn\"]: requires a network namespace"));
  EXPECT_THAT(errorsWith({}, {{"sysctl", {{"kernel.msgmax", "1"}, {"fs.mqueue.msg_max", "1"}, {"kernel.sem", "1"}}}}),
              ::testing::SizeIs(3));
  EXPECT_THAT(errorsWith({}, {{"namespaces", kNs({"ipc"})}, {"sysctl", {{"kernel.msgmax", "1"}, {"kernel.shm_rmid_forced", "1"}}}}),
              ::testing::IsEmpty());
  EXPECT_THAT(errorsWith({}, {{"sysctl", {{"kernel.hostname", "x"}}}}),
              ::testing::ElementsAre("linux.sysctl[\"kernel.hostname\"]: requires a uts namespace"));
  EXPECT_THAT(errorsWith({}, {{"namespaces", kNs({"ipc"})}, {"sysctl", {{"kernel.semaphores", "1"}}}}),
              ::testing::ElementsAre("linux.sysctl[\"kernel.semaphores\"]: not a namespaced sysctl"));
}

TEST(Validate, UserNamespaceAndMappingsGoTogether) {
  json maps = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
  EXPECT_THAT(errorsWith({}, {{"uidMappings", maps}, {"gidMappings", maps}}),
              ::testing::ElementsAre("linux.uidMappings: id mappings require a user namespace"));
  EXPECT_THAT(errorsWith({}, {{"namespaces", kNs({"user"})}}),
              ::testing::ElementsAre("linux.uidMappings: a new user namespace needs uid mappings",
                                     "linux.gidMappings: a new user namespace needs gid mappings"));
  // Joining an existing user namespace brings its own mappings.
  EXPECT_THAT(errorsWith({}, {{"namespaces", {{{"type", "user"}, {"path", "/proc/1/ns/user"}}}}}), ::testing::IsEmpty());
}

TEST(Validate, TimeOffsetsNeedANewTimeNamespace) {
  json offsets = {{"boottime", {{"secs", 1}}}};
  EXPECT_THAT(errorsWith({}, {{"timeOffsets", offsets}}),
              ::testing::ElementsAre("linux.timeOffsets: requires a new time namespace"));
  EXPECT_THAT(errorsWith({}, {{"timeOffsets", offsets}, {"namespaces", {{{"type", "time"}, {"path", "/proc/1/ns/time"}}}}}),
              ::testing::ElementsAre("linux.timeOffsets: requires a new time namespace"));
  EXPECT_THAT(errorsWith({}, {{"timeOffsets", offsets}, {"namespaces", kNs({"time"})}}), ::testing::IsEmpty());
}

TEST(Validate, NetDevicesNeedANetworkNamespace) {
  EXPECT_THAT(errorsWith({}, {{"netDevices", {{"eth0", json::object()}}}}),
              ::testing::ElementsAre("linux.netDevices[\"eth0\"]: requires a network namespace"));
}

TEST(Validate, IdmapMountNeedsMappingsOrUserNamespace) {
  json mounts = {{{"destination", "/d"}, {"source", "/s"}, {"options", {"bind", "idmap"}}}};
  EXPECT_THAT(errorsWith({{"mounts", mounts}}, json()),
              ::testing::ElementsAre("mounts[0].options: idmap needs uidMappings/gidMappings or a user namespace"));
}

TEST(Validate, RelativeMountDestinationIsDeprecatedButAllowed) {
  json mounts = {{{"destination", "data"}, {"type", "tmpfs"}, {"source", "tmpfs"}}};
  EXPECT_THAT(errorsWith({{"mounts", mounts}}, json()), ::testing::IsEmpty());
}

TEST(Validate, NotifyNeedsAListener) {
  json seccomp = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {{{"names", {"mount"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
  EXPECT_THAT(errorsWith({}, {{"seccomp", seccomp}}),
              ::testing::ElementsAre("linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used"));
}

TEST(Validate, ListenerMetadataNeedsAListenerPath) {
  json seccomp = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"listenerMetadata", "m"}};
  EXPECT_THAT(errorsWith({}, {{"seccomp", seccomp}}),
              ::testing::ElementsAre("linux.seccomp.listenerMetadata: requires listenerPath"));
}

TEST(Validate, ConsoleSizeWithoutTerminalIsIgnored) {
  json process = {{"cwd", "/"}, {"args", {"sh"}}, {"consoleSize", {{"height", 1}, {"width", 1}}}};
  EXPECT_THAT(errorsWith({{"process", process}}, json()), ::testing::IsEmpty());
}

TEST(Validate, ReportsEveryProblemInConfigOrder) {
  json process = {{"cwd", "rel"}, {"args", json::array()}};
  EXPECT_THAT(errorsWith({{"ociVersion", "3.0.0"}, {"process", process}}, {{"rootfsPropagation", "x"}}),
              ::testing::ElementsAre(::testing::StartsWith("ociVersion:"), ::testing::StartsWith("process.args:"),
                                     ::testing::StartsWith("process.cwd:"),
                                     ::testing::StartsWith("linux.rootfsPropagation:")));
  EXPECT_THAT(validationErrors(minimal(json())), ::testing::IsEmpty());
}

TEST(ValidateResources, PathsRelativeToTheObject) {
  auto r = parseResources(R"({"memory": {"swappiness": 200}})");
  ASSERT_TRUE(r.ok());
  auto st = validateResources(*r);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "memory.swappiness: must be in [0, 100]");
  auto good = parseResources(R"({"pids": {"limit": 0}})");
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(validateResources(*good).ok());
}

TEST(KnownCapabilities, CoversLinuxSixUpToCheckpointRestore) {
  const auto& caps = knownCapabilities();
  EXPECT_EQ(caps.size(), 41u);  // CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40)
  EXPECT_EQ(caps.front(), "CAP_CHOWN");
  EXPECT_EQ(caps.back(), "CAP_CHECKPOINT_RESTORE");
  EXPECT_TRUE(contains(caps, "CAP_BPF"));
  EXPECT_TRUE(contains(caps, "CAP_PERFMON"));
}

}  // namespace
}  // namespace berth::spec
