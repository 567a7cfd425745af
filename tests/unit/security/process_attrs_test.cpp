#include "security/process_attrs.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/personality.h>

#include "child_helpers.hpp"

namespace berth::security {
namespace {

using testing::inChild;

TEST(ParseIdList, RangesAndSingles) {
  std::vector<unsigned> ids;
  ASSERT_TRUE(parseIdList("0-2,5,7-7", ids));
  EXPECT_EQ(ids, (std::vector<unsigned>{0, 1, 2, 5, 7}));
}

TEST(ParseIdList, RejectsMalformed) {
  for (const char* bad : {"", ",", "a", "3-1", "1-", "1,,2", "1 ", "-1", "99999"}) {
    std::vector<unsigned> ids;
    EXPECT_FALSE(parseIdList(bad, ids)) << bad;
  }
}

TEST(ProcessAttrs, AbsentFieldsAreNoOps) {
  EXPECT_TRUE(applyPersonality(std::nullopt));
  EXPECT_TRUE(applyScheduler(std::nullopt));
  EXPECT_TRUE(applyIoPriority(std::nullopt));
  EXPECT_TRUE(applyMemoryPolicy(std::nullopt));
  EXPECT_TRUE(applyCpuAffinity(std::nullopt, "x"));
}

TEST(ProcessAttrs, PersonalityInAChild) {
  auto r = inChild([] {
    auto st = applyPersonality(spec::Personality{"LINUX32", {}});
    if (!st) return st.error().message();
    return std::to_string(::personality(0xffffffff) & PER_MASK);
  });
  EXPECT_EQ(r.output, std::to_string(PER_LINUX32));
}

TEST(ProcessAttrs, UnknownValuesNameTheField) {
  auto p = applyPersonality(spec::Personality{"VAX", {}});
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("linux.personality.domain"), std::string::npos);
  spec::Scheduler s;
  s.policy = "SCHED_FAST";
  auto sc = applyScheduler(s);
  ASSERT_FALSE(sc);
  EXPECT_NE(sc.error().message().find("process.scheduler.policy"), std::string::npos);
  auto a = applyCpuAffinity(std::string("x"), "process.execCPUAffinity.final");
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find("process.execCPUAffinity.final"), std::string::npos);
}

TEST(ProcessAttrs, AffinityInAChild) {
  auto r = inChild([] {
    auto st = applyCpuAffinity(std::string("0"), "f");
    if (!st) return st.error().message();
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    return std::to_string(CPU_COUNT(&set)) + (CPU_ISSET(0, &set) ? "+0" : "");
  });
  EXPECT_EQ(r.output, "1+0");
}

}  // namespace
}  // namespace berth::security
