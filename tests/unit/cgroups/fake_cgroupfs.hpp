// A temp-dir stand-in for a cgroup filesystem: control files are plain files
// the test creates, so a writer's effect is read back as the file's content
// and a file the test leaves out plays a feature the host lacks.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace berth::cgroups::testing {

class FakeCgroupFs {
 public:
  FakeCgroupFs() {
    char tmpl[] = "/tmp/berth-cgfake-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~FakeCgroupFs() { std::filesystem::remove_all(root_); }
  FakeCgroupFs(const FakeCgroupFs&) = delete;
  FakeCgroupFs& operator=(const FakeCgroupFs&) = delete;

  const std::string& root() const { return root_; }
  std::string path(const std::string& rel) const { return root_ + "/" + rel; }

  // Creates `rel` (and its directories) with `content`.
  void file(const std::string& rel, const std::string& content = "") const {
    std::filesystem::create_directories(std::filesystem::path(path(rel)).parent_path());
    std::ofstream(path(rel)) << content;
  }
  void files(const std::string& dir, const std::vector<std::string>& names) const {
    for (const auto& n : names) file(dir + "/" + n);
  }
  void dir(const std::string& rel) const { std::filesystem::create_directories(path(rel)); }
  bool exists(const std::string& rel) const { return std::filesystem::exists(path(rel)); }

  std::string read(const std::string& rel) const {
    std::ifstream in(path(rel));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string root_;
};

}  // namespace berth::cgroups::testing
