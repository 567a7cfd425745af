#include "security/rlimits.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "child_helpers.hpp"

namespace berth::security {
namespace {

using testing::inChild;

std::string limitOf(int resource) {
  rlimit l{};
  if (::getrlimit(static_cast<__rlimit_resource_t>(resource), &l) != 0) return "getrlimit failed";
  auto show = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("inf") : std::to_string(v); };
  return show(l.rlim_cur) + "/" + show(l.rlim_max);
}

spec::Rlimit lim(const std::string& type, uint64_t soft, uint64_t hard) {
  spec::Rlimit r;
  r.type = type;
  r.soft = soft;
  r.hard = hard;
  return r;
}

TEST(RlimitResource, MapsEveryLinuxName) {
  const std::pair<const char*, int> expected[] = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  for (const auto& [name, value] : expected) {
    auto r = rlimitResource(name);
    ASSERT_TRUE(r) << name;
    EXPECT_EQ(*r, value) << name;
  }
}

TEST(RlimitResource, UnknownNames) {
  for (const char* name : {"RLIMIT_FOO", "rlimit_nofile", "NOFILE", ""}) {
    auto r = rlimitResource(name);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().message(), std::string("unknown rlimit \"") + name + "\"");
  }
}

TEST(ApplyRlimits, LimitsReadBack) {
  auto r = inChild([] {
    auto st = applyRlimits({lim("RLIMIT_NOFILE", 100, 200), lim("RLIMIT_CORE", 0, 0),
                            lim("RLIMIT_MSGQUEUE", 4096, 8192), lim("RLIMIT_CPU", RLIM_INFINITY, RLIM_INFINITY)});
    if (!st) return st.error().message();
    return limitOf(RLIMIT_NOFILE) + " " + limitOf(RLIMIT_CORE) + " " + limitOf(RLIMIT_MSGQUEUE) + " " +
           limitOf(RLIMIT_CPU);
  });
  EXPECT_EQ(r.output, "100/200 0/0 4096/8192 inf/inf");
}

TEST(ApplyRlimits, UnknownTypeNamesTheEntryAndSetsNothing) {
  auto r = inChild([] {
    std::string before = limitOf(RLIMIT_NOFILE);
    auto st = applyRlimits({lim("RLIMIT_NOFILE", 10, 10), lim("RLIMIT_FOO", 1, 1)});
    if (st) return std::string("applied");
    return st.error().message() + (limitOf(RLIMIT_NOFILE) == before ? "" : " (NOFILE changed)");
  });
  EXPECT_EQ(r.output, "process.rlimits[1]: unknown rlimit \"RLIMIT_FOO\"");
}

TEST(ApplyRlimits, DuplicateTypeIsAnError) {
  auto r = inChild([] {
    auto st = applyRlimits({lim("RLIMIT_CORE", 0, 0), lim("RLIMIT_NOFILE", 10, 10), lim("RLIMIT_CORE", 1, 1)});
    return st ? std::string("applied") : st.error().message();
  });
  EXPECT_EQ(r.output, "process.rlimits[2]: duplicate rlimit RLIMIT_CORE (also process.rlimits[0])");
}

TEST(ApplyRlimits, SoftAboveHardIsExplained) {
  auto r = inChild([] {
    auto st = applyRlimits({lim("RLIMIT_NOFILE", 300, 200)});
    return st ? std::string("applied") : st.error().message();
  });
  EXPECT_EQ(r.output,
            "rlimit RLIMIT_NOFILE (soft 300, hard 200): soft limit above hard limit: Invalid argument");
}

TEST(ApplyRlimits, RaisingHardLimitWithoutCapSysResourceIsExplained) {
  auto r = inChild([] {
    // Make "no CAP_SYS_RESOURCE" true whatever the host gives root.
    cap_t caps = cap_get_proc();
    cap_value_t v = CAP_SYS_RESOURCE;
    cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
    cap_set_proc(caps);
    cap_free(caps);
    if (auto st = applyRlimits({lim("RLIMIT_NOFILE", 50, 100)}); !st) return "lower: " + st.error().message();
    auto st = applyRlimits({lim("RLIMIT_NOFILE", 50, 1000)});
    return st ? std::string("raised") : st.error().message();
  });
  EXPECT_EQ(r.output,
            "rlimit RLIMIT_NOFILE (soft 50, hard 1000): raising a hard limit needs CAP_SYS_RESOURCE: Operation not "
            "permitted");
}

}  // namespace
}  // namespace berth::security
