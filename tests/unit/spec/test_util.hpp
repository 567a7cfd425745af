// Shared by the spec unit tests: fixtures and a JSON-editing helper.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace berth::spec::testing {

inline std::string readTestFile(const std::string& relative) {
  std::ifstream in(std::string(BERTH_TEST_DATA) + "/" + relative);
  EXPECT_TRUE(in.good()) << "missing test file " << relative;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json fullConfig() { return nlohmann::json::parse(readTestFile("spec/full.json")); }

// The full config with the value at `pointer` replaced (or removed when
// `value` is discarded), as text for parseConfig.
inline std::string withValue(const std::string& pointer, const nlohmann::json& value) {
  nlohmann::json doc = fullConfig();
  nlohmann::json::json_pointer ptr(pointer);
  if (value.is_discarded()) {
    nlohmann::json& parent = doc[ptr.parent_pointer()];
    if (parent.is_array()) parent.erase(std::stoul(ptr.back()));
    else parent.erase(ptr.back());
  } else {
    doc[ptr] = value;
  }
  return doc.dump();
}

inline const nlohmann::json kRemove = nlohmann::json(nlohmann::json::value_t::discarded);

}  // namespace berth::spec::testing
