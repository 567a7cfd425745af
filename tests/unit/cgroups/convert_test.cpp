// The v1 -> v2 unit conversions and the cgroup path rules.
#include <gtest/gtest.h>

#include "cgroups/manager.hpp"

namespace berth::cgroups {
namespace {

TEST(Convert, CpuSharesToWeight) {
  EXPECT_EQ(convert::cpuSharesToWeight(0), 0u);  // unset stays unset
  EXPECT_EQ(convert::cpuSharesToWeight(2), 1u);
  EXPECT_EQ(convert::cpuSharesToWeight(1024), 39u);  // 1 + 1022*9999/262142
  EXPECT_EQ(convert::cpuSharesToWeight(262144), 10000u);
  EXPECT_EQ(convert::cpuSharesToWeight(1000000), 10000u);  // clamped like the kernel does
}

TEST(Convert, BlkioWeightToIoWeight) {
  EXPECT_EQ(convert::blkioWeightToIoWeight(0), 0u);
  EXPECT_EQ(convert::blkioWeightToIoWeight(10), 1u);
  EXPECT_EQ(convert::blkioWeightToIoWeight(500), 4950u);  // 1 + 490*9999/990
  EXPECT_EQ(convert::blkioWeightToIoWeight(1000), 10000u);
}

TEST(Convert, MemorySwapToV2) {
  auto v = convert::memorySwapToV2(int64_t{300}, int64_t{100});
  ASSERT_TRUE(v.ok()) << v.error().message();
  EXPECT_EQ(**v, 200);  // v2 counts swap alone
  v = convert::memorySwapToV2(int64_t{-1}, int64_t{100});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(**v, -1);
  v = convert::memorySwapToV2(std::nullopt, int64_t{-1});  // unlimited memory: unlimited swap too
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(**v, -1);
  v = convert::memorySwapToV2(std::nullopt, int64_t{100});
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
  v = convert::memorySwapToV2(int64_t{100}, int64_t{100});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(**v, 0);

  auto bad = convert::memorySwapToV2(int64_t{50}, int64_t{100});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("linux.resources.memory.swap"), std::string::npos) << bad.error().message();
  EXPECT_FALSE(convert::memorySwapToV2(int64_t{100}, std::nullopt).ok());
  EXPECT_FALSE(convert::memorySwapToV2(int64_t{-5}, int64_t{100}).ok());
}

TEST(Convert, HugePageSize) {
  EXPECT_EQ(*convert::hugePageSizeBytes("2MB"), 2u << 20);
  EXPECT_EQ(*convert::hugePageSizeBytes("1GB"), 1u << 30);
  EXPECT_EQ(*convert::hugePageSizeBytes("64KB"), 64u << 10);
  for (const char* bad : {"", "MB", "2M", "2mb", "2XB", "2MBB", "-2MB", "2 MB"})
    EXPECT_FALSE(convert::hugePageSizeBytes(bad).ok()) << bad;
}

TEST(CgroupPath, DefaultAbsoluteRelative) {
  EXPECT_EQ(*containerCgroupPath(std::nullopt, "abc"), "/berth/abc");
  EXPECT_EQ(*containerCgroupPath(std::string("/my/ctr"), "abc"), "/my/ctr");
  EXPECT_EQ(*containerCgroupPath(std::string("my/ctr"), "abc"), "/my/ctr");  // relative: below the root, as runc
  EXPECT_EQ(*containerCgroupPath(std::string("//a/./b/"), "abc"), "/a/b");
}

TEST(CgroupPath, RejectsDotDotAndRoot) {
  for (const char* bad : {"/a/../b", "..", "../x", "/a/..", "/", "", "/a\n/b"}) {
    auto r = containerCgroupPath(std::string(bad), "abc");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message().find("linux.cgroupsPath"), std::string::npos) << r.error().message();
  }
  // ".." smuggled in through the id is refused as well.
  EXPECT_FALSE(containerCgroupPath(std::nullopt, "..").ok());
  // "..." is a legal name, not a parent reference.
  EXPECT_TRUE(containerCgroupPath(std::string("/a/.../b"), "abc").ok());
}

}  // namespace
}  // namespace berth::cgroups
