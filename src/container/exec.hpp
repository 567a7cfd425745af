// `exec ID`: runs one more process in a running container (runc's verb and
// flags). The process is the container's config.json process with the
// command line's overrides, or the whole process object of --process FILE.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "container/state.hpp"
#include "spec/model.hpp"

namespace berth::container {

struct ExecOptions {
  std::string id;
  std::string processFile;        // --process: a runtime-spec process object; the flags below are then ignored (runc)
  std::vector<std::string> args;  // the command, when no --process
  bool tty = false;
  std::string cwd;
  std::vector<std::string> env;   // KEY=VALUE, replacing the config's KEY
  std::string user;               // uid[:gid]
  std::vector<uint32_t> additionalGids;
  std::vector<std::string> caps;  // added to bounding, effective, permitted (and ambient if the config has any)
  bool noNewPrivs = false;
  std::string apparmor;
  std::string processLabel;
  // Either way:
  std::string consoleSocket;
  bool detach = false;
  std::string pidFile;
  int preserveFds = 0;
  bool ignorePaused = false;
  std::string cgroup;  // a sub-cgroup of the container's, relative to it
};

// The process exec runs, from the container's config process and `opts`.
// Pure (no syscalls besides reading --process), so it is unit-testable.
// Errors name the flag or the JSON path in --process.
Result<spec::Process> execProcess(const spec::Process* configProcess, const ExecOptions& opts);

// Runs the exec. Returns the process's exit status in the foreground (128+N
// if killed by signal N), 0 when detached.
Result<int> exec(const Store& store, const ExecOptions& opts);

}  // namespace berth::container
