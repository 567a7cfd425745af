#include <gtest/gtest.h>
#include <sched.h>

#include "namespaces/namespaces.hpp"

namespace berth::namespaces {
namespace {

spec::Linux withNamespaces(std::vector<spec::Namespace> ns) {
  spec::Linux l;
  l.namespaces = std::move(ns);
  return l;
}

TEST(NamespacePlan, NewNamespacesAreSingleStage) {
  auto p = makePlan(withNamespaces({{"pid", {}}, {"mount", {}}, {"network", {}}, {"user", {}}}));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->singleStage());
  EXPECT_EQ(p->newFlags, CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUSER);
  EXPECT_TRUE(p->newUser);
  EXPECT_TRUE(p->has(CLONE_NEWNET));
  EXPECT_FALSE(p->has(CLONE_NEWUTS));
}

TEST(NamespacePlan, JoinedUserComesFirst) {
  auto p = makePlan(withNamespaces({{"network", "/proc/1/ns/net"}, {"mount", {}}, {"user", "/proc/1/ns/user"}}));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->singleStage());
  ASSERT_EQ(p->joins.size(), 2u);
  EXPECT_EQ(p->joins[0].nstype, CLONE_NEWUSER);
  EXPECT_TRUE(p->joinUser);
  EXPECT_EQ(p->newFlags, CLONE_NEWNS);
}

TEST(NamespacePlan, TimeIsHandledApartFromClone) {
  auto p = makePlan(withNamespaces({{"time", {}}, {"mount", {}}}));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->newTime);
  EXPECT_EQ(p->newFlags, CLONE_NEWNS);
}

TEST(NamespacePlan, ErrorsNameTheJsonPath) {
  auto bad = makePlan(withNamespaces({{"mount", {}}, {"bogus", {}}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "linux.namespaces[1].type: unknown namespace type \"bogus\"");
  auto dup = makePlan(withNamespaces({{"pid", {}}, {"pid", {}}}));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message(), "linux.namespaces[1].type: namespace \"pid\" listed twice");
}

TEST(NamespacePlan, OpenJoinsReportsAMissingPath) {
  auto p = makePlan(withNamespaces({{"network", "/nonexistent/ns"}}));
  ASSERT_TRUE(p.ok());
  auto fds = openJoins(*p);
  ASSERT_FALSE(fds.ok());
  EXPECT_EQ(fds.error().message(), "open network namespace /nonexistent/ns: No such file or directory");
}

}  // namespace
}  // namespace berth::namespaces
