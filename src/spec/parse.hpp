// config.json -> spec::Spec. Errors name the JSON path of the offending value:
//   "config.json: process.args[0]: expected a string, got number"
// Unknown fields are ignored (runtime-spec: "MUST ignore unknown properties").
// Structural checks only (types, required fields); semantic checks live in
// validate.hpp. No syscalls besides reading the file.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "spec/model.hpp"

namespace berth::spec {

// Parses a whole config.json document.
Result<Spec> parseConfig(std::string_view json);
// Reads and parses <bundleDir>/config.json.
Result<Spec> loadConfig(const std::string& bundleDir);
// Parses a process object on its own (exec --process FILE uses this).
Result<Process> parseProcess(std::string_view json);
// Parses a linux.resources object on its own (update -r FILE uses this).
Result<Resources> parseResources(std::string_view json);

}  // namespace berth::spec
