// `spec` and `features` output, held to the runtime-spec schemas.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "schema_check.hpp"
#include "spec/defaults.hpp"
#include "spec/features.hpp"
#include "spec/known.hpp"
#include "spec/parse.hpp"
#include "spec/validate.hpp"

namespace berth::spec {
namespace {

using nlohmann::json;
using testing::readTestFile;
using testing::SchemaChecker;

// The checker must be able to fail, or the tests below prove nothing.
TEST(SchemaChecker, AcceptsGoodAndRejectsBadSamples) {
  SchemaChecker checker;
  for (const char* good : {"minimal.json", "minimal-for-start.json", "spec-example.json", "linux-rdma.json",
                           "linux-netdevice.json"}) {
    json doc = json::parse(readTestFile(std::string("schema/test/config/good/") + good));
    EXPECT_THAT(checker.check(doc, "config-schema.json"), ::testing::IsEmpty()) << good;
  }
  for (const char* bad : {"linux-hugepage.json", "linux-rdma.json", "linux-netdevice.json"}) {
    json doc = json::parse(readTestFile(std::string("schema/test/config/bad/") + bad));
    EXPECT_THAT(checker.check(doc, "config-schema.json"), ::testing::Not(::testing::IsEmpty())) << bad;
  }
  for (const char* good : {"minimal.json", "runc.json"}) {
    json doc = json::parse(readTestFile(std::string("schema/test/features/good/") + good));
    EXPECT_THAT(checker.check(doc, "features-schema.json"), ::testing::IsEmpty()) << good;
  }
  json bad = json::parse(readTestFile("schema/test/features/bad/missing-ociVersionMax.json"));
  EXPECT_THAT(checker.check(bad, "features-schema.json"), ::testing::Not(::testing::IsEmpty()));
}

TEST(FullFixture, MatchesTheConfigSchema) {
  json doc = json::parse(readTestFile("spec/full.json"));
  EXPECT_THAT(SchemaChecker().check(doc, "config-schema.json"), ::testing::IsEmpty());
}

class DefaultConfig : public ::testing::TestWithParam<bool> {};

TEST_P(DefaultConfig, ParsesValidatesAndMatchesTheSchema) {
  const bool rootless = GetParam();
  std::string text = defaultConfigJson(rootless, 1000, 1001);
  EXPECT_THAT(SchemaChecker().check(json::parse(text), "config-schema.json"), ::testing::IsEmpty());
  auto spec = parseConfig(text);
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_THAT(validationErrors(*spec), ::testing::IsEmpty());
  EXPECT_EQ(spec->ociVersion, "1.3.0");
  ASSERT_TRUE(spec->process);
  EXPECT_THAT(spec->process->args, ::testing::ElementsAre("sh"));
  EXPECT_TRUE(spec->process->terminal);
  EXPECT_EQ(spec->root->path, "rootfs");
  EXPECT_THAT(*spec->process->capabilities->bounding,
              ::testing::ElementsAre("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"));
  EXPECT_EQ(spec->mounts.size(), 7u);
  EXPECT_EQ(spec->linux->maskedPaths.size(), 10u);
  EXPECT_EQ(spec->linux->readonlyPaths.size(), 5u);
}

INSTANTIATE_TEST_SUITE_P(Both, DefaultConfig, ::testing::Bool());

std::vector<std::string> namespaceTypes(const Spec& s) {
  std::vector<std::string> out;
  for (const auto& ns : s.linux->namespaces) out.push_back(ns.type);
  return out;
}

TEST(DefaultConfig, LikeRuncSpec) {
  std::string text = defaultConfigJson(false, 0, 0);
  EXPECT_EQ(text.substr(0, 17), "{\n\t\"ociVersion\": ");  // runc's tab indent and key order
  Spec s = *parseConfig(text);
  EXPECT_THAT(namespaceTypes(s), ::testing::ElementsAre("pid", "network", "ipc", "uts", "mount"));
  EXPECT_TRUE(s.linux->uidMappings.empty());
  ASSERT_TRUE(s.linux->resources);
  ASSERT_EQ(s.linux->resources->devices.size(), 1u);
  EXPECT_FALSE(s.linux->resources->devices[0].allow);
  EXPECT_EQ(s.mounts[5].type, "sysfs");
  EXPECT_THAT(s.mounts[2].options, ::testing::Contains("gid=5"));
}

TEST(DefaultConfig, RootlessLikeRuncSpecRootless) {
  Spec s = *parseConfig(defaultConfigJson(true, 1000, 1001));
  EXPECT_THAT(namespaceTypes(s), ::testing::ElementsAre("pid", "ipc", "uts", "mount", "user"));
  ASSERT_EQ(s.linux->uidMappings.size(), 1u);
  EXPECT_EQ(s.linux->uidMappings[0].containerID, 0u);
  EXPECT_EQ(s.linux->uidMappings[0].hostID, 1000u);
  EXPECT_EQ(s.linux->uidMappings[0].size, 1u);
  EXPECT_EQ(s.linux->gidMappings.at(0).hostID, 1001u);
  EXPECT_FALSE(s.linux->resources);
  EXPECT_EQ(s.mounts[5].destination, "/sys");
  EXPECT_EQ(s.mounts[5].source, "/sys");
  EXPECT_THAT(s.mounts[5].options, ::testing::Contains("rbind"));
  EXPECT_THAT(s.mounts[2].options, ::testing::Not(::testing::Contains("gid=5")));
}

TEST(Features, MatchesTheFeaturesSchema) {
  json doc = json::parse(featuresJson());
  EXPECT_THAT(SchemaChecker().check(doc, "features-schema.json"), ::testing::IsEmpty());
}

TEST(Features, SaysWhatBerthImplements) {
  json doc = json::parse(featuresJson());
  EXPECT_EQ(doc["ociVersionMin"], "1.0.0");
  EXPECT_EQ(doc["ociVersionMax"], "1.3.0");
  EXPECT_EQ(doc["hooks"].size(), 6u);
  EXPECT_EQ(doc["mountOptions"].size(), 35u);
  EXPECT_EQ(doc["linux"]["namespaces"].size(), 8u);
  EXPECT_EQ(doc["linux"]["capabilities"].get<std::vector<std::string>>(), knownCapabilities());
  EXPECT_EQ(doc["linux"]["cgroup"], json::parse(R"({"v1":true,"v2":true,"systemd":false,"systemdUser":false,"rdma":true})"));
  EXPECT_EQ(doc["linux"]["seccomp"]["enabled"], true);
  EXPECT_THAT(doc["linux"]["seccomp"]["archs"].get<std::vector<std::string>>(), ::testing::Contains("SCMP_ARCH_X86_64"));
  EXPECT_EQ(doc["linux"]["apparmor"]["enabled"], false);
  EXPECT_EQ(doc["linux"]["selinux"]["enabled"], false);
  EXPECT_EQ(doc["linux"]["intelRdt"]["enabled"], false);
  EXPECT_EQ(doc["linux"]["mountExtensions"]["idmap"]["enabled"], true);  // idmap and ridmap mounts (fs/idmap)
  EXPECT_TRUE(doc["annotations"].contains("io.berth.version"));
  // Every supported flag and arch is one the validator knows.
  for (const auto& f : doc["linux"]["seccomp"]["supportedFlags"])
    EXPECT_TRUE(contains(knownSeccompFlags(), f.get<std::string>()));
  for (const auto& a : doc["linux"]["seccomp"]["archs"])
    EXPECT_TRUE(contains(knownSeccompArchs(), a.get<std::string>()));
}

}  // namespace
}  // namespace berth::spec
