// Bad input: each mistake exits 1 with an error, and leaves no state dir, no
// mounts and no processes behind. berth also promises one error line that
// names the offending JSON path; runc words its errors its own way.
#include "harness.hpp"

namespace berth::it {
namespace {

class BadInput : public RuntimeTest {
 protected:
  // A control: the runtime does run this bundle's default config, so the
  // failures below come from the one thing each test breaks. Its own id and
  // config are gone before the test starts.
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(RuntimeTest::SetUp());
    const std::string control = newId();
    Json good = config_;
    good["linux"]["cgroupsPath"] = cgroupPathFor(control);
    writeFile(bundle_ / "config.json", good.dump());
    ProcResult r = rt({"run", "--bundle", bundle_.string(), control});
    ASSERT_EQ(r.status, 0) << "control run failed: " << r.err;
    fs::remove(bundle_ / "config.json");
  }
  // mention: what berth's message must contain (empty: no check).
  void expectError(const ProcResult& r, const std::string& mention) {
    EXPECT_FALSE(r.timedOut);
    EXPECT_EQ(r.status, 1) << r.err;
    auto errLines = lines(r.err);
    EXPECT_FALSE(errLines.empty()) << "an error must be reported on stderr";
    EXPECT_EQ(r.out, "") << "errors go to stderr";
    if (isBerth()) {
      EXPECT_EQ(errLines.size(), 1u) << "one error line:\n" << r.err;
      if (!mention.empty()) {
        EXPECT_NE(r.err.find(mention), std::string::npos) << r.err;
      }
    }
  }
  void expectCleanFailure(const ProcResult& r, const std::string& mention) {
    expectError(r, mention);
    expectNothingLeft(id_);
  }
  ProcResult createWith(const std::string& configText) {
    writeFile(bundle_ / "config.json", configText);
    return rt({"create", "--bundle", bundle_.string(), id_});
  }
};

TEST_F(BadInput, MissingBundle) {
  ProcResult r = rt({"create", "--bundle", (tmp_ / "no-such-bundle").string(), id_});
  expectCleanFailure(r, "no-such-bundle");
}

TEST_F(BadInput, MissingConfigJson) {
  ProcResult r = rt({"create", "--bundle", bundle_.string(), id_});  // nothing written
  expectCleanFailure(r, "config.json");
}

TEST_F(BadInput, MalformedConfigJson) {
  expectCleanFailure(createWith("{ \"ociVersion\": \"1.0.2\", \"process\": "), "config.json");
}

TEST_F(BadInput, RelativeCwd) {
  config_["process"]["cwd"] = "tmp";
  expectCleanFailure(createWith(config_.dump()), "process.cwd");
}

TEST_F(BadInput, ArgsOfTheWrongType) {
  config_["process"]["args"] = "/bin/sh";
  expectCleanFailure(createWith(config_.dump()), "process.args");
}

TEST_F(BadInput, MissingOciVersion) {
  if (!isBerth()) GTEST_SKIP() << "runc 1.1 accepts a config without ociVersion";
  config_.erase("ociVersion");
  expectCleanFailure(createWith(config_.dump()), "ociVersion");
}

TEST_F(BadInput, MissingRootfs) {
  config_["root"]["path"] = "no-such-rootfs";
  config_["process"]["args"] = {"/bin/sleep", "30"};
  expectCleanFailure(createWith(config_.dump()), "no-such-rootfs");
}

TEST_F(BadInput, MissingRootfsOnRun) {
  config_["root"]["path"] = "no-such-rootfs";
  writeConfig();
  expectCleanFailure(rt({"run", "--bundle", bundle_.string(), id_}), "no-such-rootfs");
}

TEST_F(BadInput, UnknownIdForEveryVerb) {
  for (const std::vector<std::string>& verb :
       {std::vector<std::string>{"state"}, {"start"}, {"kill"}, {"kill", "--all"}, {"delete"}}) {
    std::vector<std::string> args = verb;
    args.insert(args.begin() + 1, "no-such-container");
    ProcResult r = rt(args);
    SCOPED_TRACE(verb[0]);
    expectError(r, "no-such-container");
  }
  expectNothingLeft(id_);
}

TEST_F(BadInput, DeleteForceOfAnUnknownIdSucceeds) {
  // Idempotent cleanup, as containerd relies on.
  ProcResult r = rt({"delete", "--force", "no-such-container"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(BadInput, DuplicateId) {
  config_["process"]["args"] = {"/bin/sleep", "30"};
  ASSERT_EQ(create(id_).status, 0);
  const Json before = state(id_);
  ProcResult r = rt({"create", "--bundle", bundle_.string(), id_});
  expectError(r, id_);
  const Json after = state(id_);
  EXPECT_EQ(after["status"], "created") << "the first container is untouched";
  EXPECT_EQ(after["pid"], before["pid"]);
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(root_)) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST_F(BadInput, BadSignalName) {
  config_["process"]["args"] = {"/bin/sleep", "30"};
  ASSERT_EQ(create(id_).status, 0);
  ProcResult r = rt({"kill", id_, "NOSUCHSIG"});
  expectError(r, "NOSUCHSIG");
  EXPECT_EQ(state(id_)["status"], "created") << "a bad signal changes nothing";
}

TEST_F(BadInput, InvalidId) {
  ProcResult r = rt({"create", "--bundle", bundle_.string(), "../escape"});
  EXPECT_FALSE(r.timedOut);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_FALSE(fs::exists(tmp_ / "escape"));
  expectNothingLeft("../escape");
}

TEST_F(BadInput, JsonLogEndsWithOneErrorLine) {
  config_["process"]["cwd"] = "tmp";
  writeConfig();
  const fs::path log = tmp_ / "runtime.log";
  ProcResult r = runProcess({runtimeBinary(), "--root", root_.string(), "--log", log.string(), "--log-format",
                             "json", "create", "--bundle", bundle_.string(), id_});
  EXPECT_EQ(r.status, 1);
  auto logLines = lines(readFile(log));
  ASSERT_FALSE(logLines.empty()) << "the error is logged to --log";
  int errors = 0;
  for (const auto& l : logLines) {
    Json entry = Json::parse(l, nullptr, false);
    ASSERT_TRUE(entry.is_object()) << "not JSON: " << l;
    if (entry.value("level", "") == "error") ++errors;
  }
  EXPECT_EQ(errors, 1) << readFile(log);
  Json last = Json::parse(logLines.back(), nullptr, false);
  EXPECT_EQ(last.value("level", ""), "error");
  EXPECT_FALSE(last.value("msg", "").empty());
  if (isBerth()) {
    EXPECT_NE(last.value("msg", "").find("process.cwd"), std::string::npos) << logLines.back();
  }
  expectNothingLeft(id_);
}

}  // namespace
}  // namespace berth::it
