#include "cgroups/resctrl.hpp"

#include <gtest/gtest.h>

namespace berth::cgroups {
namespace {

TEST(Resctrl, MountedOnlyAtSysFsResctrlWithTheRightType) {
  const std::string mounted =
      "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
      "40 22 0:35 / /sys/fs/resctrl rw,relatime shared:20 - resctrl resctrl rw\n";
  EXPECT_TRUE(resctrlMounted(mounted));
  EXPECT_FALSE(resctrlMounted("40 22 0:35 / /mnt/resctrl rw - resctrl resctrl rw\n")) << "elsewhere";
  EXPECT_FALSE(resctrlMounted("40 22 0:35 / /sys/fs/resctrl rw - tmpfs tmpfs rw\n")) << "a tmpfs is not resctrl";
  EXPECT_FALSE(resctrlMounted(""));
}

TEST(Resctrl, KnownFromProcFilesystems) {
  EXPECT_TRUE(resctrlKnown("nodev\tsysfs\nnodev\tresctrl\n\text4\n"));
  EXPECT_FALSE(resctrlKnown("nodev\tsysfs\n\text4\nnodev\tresctrlx\n"));
}

TEST(Resctrl, NoIntelRdtNeedsNothing) {
  spec::Spec s;
  s.linux = spec::Linux{};
  EXPECT_TRUE(checkIntelRdt(s).ok());
}

TEST(Resctrl, IntelRdtOnThisHostNamesTheField) {
  spec::Spec s;
  s.linux = spec::Linux{};
  s.linux->intelRdt = spec::IntelRdt{};
  auto r = checkIntelRdt(s);
  ASSERT_FALSE(r.ok()) << "berth places no container in a resctrl group yet, mounted or not";
  EXPECT_EQ(r.error().message().rfind("linux.intelRdt: ", 0), 0u) << r.error().message();
}

}  // namespace
}  // namespace berth::cgroups
