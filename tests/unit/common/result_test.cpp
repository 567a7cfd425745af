#include <gtest/gtest.h>

#include "common/log.hpp"
#include "common/result.hpp"
#include "common/syscalls.hpp"

namespace berth {
namespace {

Result<int> failsWith(int err) { return Error("open /x", err); }
Result<int> chained() {
  int v = TRY_CTX(failsWith(ENOENT), "rootfs");
  return v + 1;
}
Status outer() {
  TRY_CTX(chained(), "create");
  return {};
}

TEST(Result, ContextChainsOutermostFirst) {
  auto st = outer();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "create: rootfs: open /x: No such file or directory");
  EXPECT_EQ(st.error().code(), ENOENT);
}

TEST(Result, ValuesPassThroughTry) {
  auto f = []() -> Result<int> {
    int v = TRY(Result<int>(41));
    return v + 1;
  };
  EXPECT_EQ(*f(), 42);
}

TEST(Log, JsonEscapesControlCharacters) {
  EXPECT_EQ(log::jsonEscape("a\"b\\c\nd\x01"), "a\\\"b\\\\c\\nd\\u0001");
}

TEST(Syscalls, ProcessStartTimeIsStable) {
  auto a = sys::processStartTime(::getpid());
  auto b = sys::processStartTime(::getpid());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_FALSE(sys::processStartTime(0x7ffffff0).ok());
}

}  // namespace
}  // namespace berth
