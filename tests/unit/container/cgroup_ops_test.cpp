// The parsing and formatting halves of the cgroup verbs (no cgroups needed).
#include "container/cgroup_ops.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace berth::container {
namespace {

TEST(ParseMemoryBytes, AcceptsDockerSizes) {
  EXPECT_EQ(*parseMemoryBytes("512"), 512);
  EXPECT_EQ(*parseMemoryBytes("64k"), 64 * 1024);
  EXPECT_EQ(*parseMemoryBytes("64m"), 64 << 20);
  EXPECT_EQ(*parseMemoryBytes("2MiB"), 2 << 20);
  EXPECT_EQ(*parseMemoryBytes("1.5g"), int64_t{3} << 29);
  EXPECT_EQ(*parseMemoryBytes("1 GB"), int64_t{1} << 30);
  EXPECT_EQ(*parseMemoryBytes("-1"), -1);
}

TEST(ParseMemoryBytes, RefusesNonsense) {
  for (const char* bad : {"", "-5", "abc", "12x", "1.2.3", ".5m", "5mm", "m"})
    EXPECT_FALSE(parseMemoryBytes(bad).ok()) << bad;
}

TEST(UpdateResources, FlagsOverrideTheResourcesFile) {
  UpdateFlags f;
  f.resourcesFile = "-";
  f.memory = "64m";
  f.pidsLimit = "0";
  f.cpuQuota = "-1";
  f.cpusetCpus = "0-1";
  auto r = updateResources(f, [] { return std::string(R"({"memory":{"limit":1,"swap":-1},"pids":{"limit":9}})"); });
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->memory->limit, 64 << 20);
  EXPECT_EQ(r->memory->swap, -1);
  EXPECT_EQ(r->pids->limit, -1) << "--pids-limit 0 means unlimited, as runc";
  EXPECT_EQ(r->cpu->quota, -1);
  EXPECT_EQ(r->cpu->cpus, "0-1");
  EXPECT_FALSE(r->cpu->shares.has_value()) << "absent flags must not override";
  EXPECT_FALSE(r->blockIO.has_value());
}

TEST(UpdateResources, ErrorsNameTheFlag) {
  auto err = [](UpdateFlags f) {
    auto r = updateResources(f, [] { return std::string("{}"); });
    return r.ok() ? std::string("ok") : r.error().message();
  };
  UpdateFlags a;
  a.memory = "-3";
  EXPECT_NE(err(a).find("--memory"), std::string::npos) << err(a);
  UpdateFlags b;
  b.blkioWeight = "5";
  EXPECT_NE(err(b).find("--blkio-weight"), std::string::npos) << err(b);
  UpdateFlags c;
  c.cpuShares = "many";
  EXPECT_NE(err(c).find("--cpu-shares"), std::string::npos) << err(c);
  UpdateFlags d;
  d.resourcesFile = "-";
  auto r = updateResources(d, [] { return std::string(R"({"memory":{"limit":"x"}})"); });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("memory.limit"), std::string::npos) << r.error().message();
}

TEST(FilterPsOutput, KeepsHeaderAndOnlyTheGivenPids) {
  const std::string ps =
      "UID          PID    PPID  C STIME TTY          TIME CMD\n"
      "root           1       0  0 07:00 ?        00:00:01 /sbin/init\n"
      "root         412       1  0 07:00 ?        00:00:00 sleep 100\n"
      "root        4120       1  0 07:00 ?        00:00:00 sleep 412\n";
  auto out = filterPsOutput(ps, {412});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out,
            "UID          PID    PPID  C STIME TTY          TIME CMD\n"
            "root         412       1  0 07:00 ?        00:00:00 sleep 100\n");
  EXPECT_FALSE(filterPsOutput("USER COMMAND\nroot x\n", {1}).ok());
}

TEST(EventsJson, StatsEventHasRuncsShape) {
  cgroups::Stats s;
  s.cpu.usage.total = 123;
  s.cpu.usage.percpu = {100, 23};
  s.memory.usage.usage = 4096;
  s.memory.usage.limit = 1 << 20;
  s.pids.current = 3;
  s.hugetlb["2MB"] = {};
  auto j = nlohmann::json::parse(statsEventJson("c1", s));
  EXPECT_EQ(j["type"], "stats");
  EXPECT_EQ(j["id"], "c1");
  EXPECT_EQ(j["data"]["cpu"]["usage"]["total"], 123);
  EXPECT_EQ(j["data"]["cpu"]["usage"]["percpu"], nlohmann::json::array({100, 23}));
  EXPECT_EQ(j["data"]["memory"]["usage"]["usage"], 4096);
  EXPECT_EQ(j["data"]["memory"]["usage"]["limit"], 1 << 20);
  EXPECT_EQ(j["data"]["pids"]["current"], 3);
  EXPECT_FALSE(j["data"]["pids"].contains("limit")) << "zero limit is omitted, as runc's omitempty";
  EXPECT_EQ(j["data"]["hugetlb"]["2MB"]["failcnt"], 0);
  EXPECT_TRUE(j["data"]["blkio"].is_object());
  EXPECT_EQ(nlohmann::json::parse(oomEventJson("c1")), nlohmann::json::parse(R"({"type":"oom","id":"c1"})"));
}

TEST(ParseInterval, GoDurations) {
  EXPECT_EQ(parseInterval("5s")->count(), 5000);
  EXPECT_EQ(parseInterval("500ms")->count(), 500);
  EXPECT_EQ(parseInterval("1m30s")->count(), 90000);
  EXPECT_EQ(parseInterval("1.5s")->count(), 1500);
  for (const char* bad : {"", "5", "s", "5x", "0s", "-1s"}) EXPECT_FALSE(parseInterval(bad).ok()) << bad;
}

}  // namespace
}  // namespace berth::container
