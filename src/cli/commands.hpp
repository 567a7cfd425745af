// berth-runtime's command line, runc's shape: global flags, then a verb.
// Each cmd_*.cpp registers its verbs; a verb's callback stores the action to
// run, and main() runs it and prints its error once (the only place that
// does).
#pragma once

#include <CLI/CLI.hpp>
#include <cstring>
#include <functional>
#include <string>

#include "common/result.hpp"

namespace berth::cli {

struct Globals {
  std::string root;
  std::string log;
  std::string logFormat = "text";
  bool debug = false;
  bool systemdCgroup = false;
};

// An action returns the process exit status (0, or the container's status
// for `run`), or an Error that main prints and turns into exit status 1.
using Action = std::function<Result<int>()>;

struct Context {
  Globals globals;
  Action action;
  // The verb on the command line; null when CLI11 needs the whole tree
  // (--help, --version, no verb). Building a verb's options is most of a
  // short command's user-space time, so a group registers only this one.
  const char* verb = nullptr;
  bool wants(const char* name) const { return verb == nullptr || std::strcmp(verb, name) == 0; }
};

void registerLifecycle(CLI::App& app, Context& ctx);  // create start run state kill delete list
void registerInfo(CLI::App& app, Context& ctx);       // spec features
void registerCgroupVerbs(CLI::App& app, Context& ctx); // pause resume update ps events
void registerExec(CLI::App& app, Context& ctx);        // exec

}  // namespace berth::cli
