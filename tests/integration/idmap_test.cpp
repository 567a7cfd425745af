// Idmapped bind mounts (mount options idmap/ridmap) and multi-range user
// namespace mappings through newuidmap/newgidmap for an unprivileged caller.
//
// Idmap semantics follow runc: a mount's uidMappings are written verbatim as
// the idmapping's uid_map, so containerID is the id on disk and hostID the id
// the mount shows. {containerID 1000, hostID 0} makes a directory owned by
// 1000 appear owned by root, and root's new files land on disk as 1000.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "unprivileged_user.hpp"

namespace berth::it {
namespace {

Json idmapEntry(const std::string& dest, const fs::path& source, const std::string& option, uint32_t cid,
                uint32_t hid, uint32_t size) {
  Json maps = Json::array({{{"containerID", cid}, {"hostID", hid}, {"size", size}}});
  return {{"destination", dest}, {"type", "bind"},    {"source", source.string()},
          {"options", {"bind", option}}, {"uidMappings", maps}, {"gidMappings", maps}};
}

class Idmap : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (::geteuid() != 0) GTEST_SKIP() << "idmapped mounts need root";
    // Gate on what the runtime says it supports: runc 1.1 predates idmap.
    ProcResult f = rt({"features"});
    Json features = f.status == 0 ? Json::parse(f.out, nullptr, false) : Json();
    bool enabled = features.is_object() && features.contains("linux") &&
                   features["linux"].value("mountExtensions", Json::object())
                       .value("idmap", Json::object())
                       .value("enabled", false);
    if (!enabled) GTEST_SKIP() << runtimeBinary() << " does not report idmapped mounts in `features`";
    data_ = hostDir("data");
    writeFile(data_ / "owned", "by 1000");
    writeFile(data_ / "rootfile", "by 0");
    ASSERT_EQ(::chown((data_ / "owned").c_str(), 1000, 1000), 0);
    ASSERT_EQ(::chown(data_.c_str(), 1000, 1000), 0);
  }

  static std::string ownerOf(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return "missing";
    return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
  }

  fs::path data_;
};

TEST_F(Idmap, HostDirOwnedBy1000AppearsOwnedByRootAndRootWritesAs1000) {
  config_["mounts"].push_back(idmapEntry("/data", data_, "idmap", 1000, 0, 1));
  ProcResult r = runSh("stat -c %u:%g /data /data/owned; touch /data/new && echo made");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"0:0", "0:0", "made"})) << r.out;
  EXPECT_EQ(ownerOf(data_ / "new"), "1000:1000") << "a file root made inside is stored as 1000";
  // The host's own view is untouched.
  EXPECT_EQ(ownerOf(data_ / "owned"), "1000:1000");
}

TEST_F(Idmap, RangeMappingShiftsEveryOwner) {
  config_["mounts"].push_back(idmapEntry("/data", data_, "idmap", 0, 100000, 65536));
  ProcResult r = runSh("stat -c %u:%g /data/rootfile /data/owned");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"100000:100000", "101000:101000"})) << r.out;
}

TEST_F(Idmap, RidmapMapsSubmountsToo) {
  // A submount inside the source (a tmpfs with a file owned by 0) is mapped
  // only with ridmap.
  fs::path sub = data_ / "sub";
  fs::create_directories(sub);
  ASSERT_EQ(runProcess({"mount", "-t", "tmpfs", "tmpfs", sub.string()}).status, 0);
  writeFile(sub / "f", "x");
  config_["mounts"].push_back(idmapEntry("/data", data_, "ridmap", 0, 100000, 65536));
  config_["mounts"].back()["options"] = {"rbind", "ridmap"};
  ProcResult r = runSh("stat -c %u /data/rootfile /data/sub/f");
  runProcess({"umount", "-l", sub.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{"100000", "100000"})) << r.out;
}

TEST_F(Idmap, IdmapWithoutMappingsFailsNamingTheMount) {
  Json entry = idmapEntry("/data", data_, "idmap", 0, 0, 1);
  entry.erase("uidMappings");
  entry.erase("gidMappings");
  config_["mounts"].push_back(entry);
  const size_t index = config_["mounts"].size() - 1;
  ProcResult r = runSh("echo should-not-run");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out.find("should-not-run"), std::string::npos);
  if (isBerth()) {
    EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
    EXPECT_NE(r.err.find("mounts[" + std::to_string(index) + "]"), std::string::npos) << r.err;
  }
  expectNothingLeft(id_);
}

// ---- newuidmap / newgidmap --------------------------------------------------

struct SubRange {
  uint32_t start = 0;
  uint32_t size = 0;
};

SubRange subRangeOf(const std::string& file, const std::string& user) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(user + ":", 0) != 0) continue;
    std::istringstream f(line.substr(user.size() + 1));
    SubRange r;
    char colon;
    if (f >> r.start >> colon >> r.size) return r;
  }
  return {};
}

// The same unprivileged user as rootless_test.cpp (UnprivilegedUserTest).
class RootlessMaps : public UnprivilegedUserTest {
 protected:
  void SetUp() override {
    UnprivilegedUserTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (::access("/usr/bin/newuidmap", X_OK) != 0) GTEST_SKIP() << "newuidmap (package uidmap) missing";
    subuid_ = subRangeOf("/etc/subuid", kUser);
    subgid_ = subRangeOf("/etc/subgid", kUser);
    ASSERT_GT(subuid_.size, 0u);
    ASSERT_GT(subgid_.size, 0u);
  }

  // A rootless config whose maps are 0 -> the user and 1.. -> its sub range.
  Json rootlessConfig(uint32_t subuidStart, uint32_t subgidStart) {
    ProcResult spec = asUser(specDir_, {"spec", "--rootless"});
    EXPECT_EQ(spec.status, 0) << spec.err;
    Json cfg = Json::parse(readFile(specDir_ / "config.json"));
    cfg["process"]["terminal"] = false;
    cfg["process"]["args"] = {"cat", "/proc/self/uid_map", "/proc/self/gid_map"};
    const uint32_t n = std::min<uint32_t>(subuid_.size, 65536);
    cfg["linux"]["uidMappings"] = Json::array({{{"containerID", 0}, {"hostID", uid_}, {"size", 1}},
                                               {{"containerID", 1}, {"hostID", subuidStart}, {"size", n}}});
    cfg["linux"]["gidMappings"] = Json::array({{{"containerID", 0}, {"hostID", gid_}, {"size", 1}},
                                               {{"containerID", 1}, {"hostID", subgidStart}, {"size", n}}});
    return cfg;
  }

  SubRange subuid_, subgid_;
};

TEST_F(RootlessMaps, SubuidRangeGivesTwoMappingLines) {
  Json cfg = rootlessConfig(subuid_.start, subgid_.start);
  writeFile(bundle_ / "config.json", cfg.dump(2));
  ProcResult r = asUser(bundle_, {"run", id_});
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> l = lines(r.out);
  ASSERT_EQ(l.size(), 4u) << "two uid_map lines, then two gid_map lines:\n" << r.out;
  auto fields = [](const std::string& s) {
    std::istringstream in(s);
    long a = -1, b = -1, c = -1;
    in >> a >> b >> c;
    return std::vector<long>{a, b, c};
  };
  EXPECT_EQ(fields(l[0]), (std::vector<long>{0, static_cast<long>(uid_), 1}));
  EXPECT_EQ(fields(l[1])[0], 1);
  EXPECT_EQ(fields(l[1])[1], static_cast<long>(subuid_.start));
  EXPECT_EQ(fields(l[2]), (std::vector<long>{0, static_cast<long>(gid_), 1}));
  EXPECT_EQ(fields(l[3])[1], static_cast<long>(subgid_.start));
}

TEST_F(RootlessMaps, MappingOutsideSubuidFailsCleanly) {
  // Far from any range the setup hands out.
  Json cfg = rootlessConfig(3000000000u, subgid_.start);
  writeFile(bundle_ / "config.json", cfg.dump(2));
  ProcResult r = asUser(bundle_, {"run", id_});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  if (isBerth()) {
    EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
    EXPECT_NE(r.err.find("linux.uidMappings: newuidmap: "), std::string::npos) << r.err;
    // No state left under $XDG_RUNTIME_DIR/berth.
    EXPECT_FALSE(fs::exists(xdg_ / "berth" / id_));
  }
  EXPECT_TRUE(processesMatching(id_).empty());
}

}  // namespace
}  // namespace berth::it
