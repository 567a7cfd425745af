// The container lifecycle as runtime-spec runtime.md defines it:
//   create -> created -> start -> running -> (exit) -> stopped -> delete
// One function per operation; the CLI verbs are thin wrappers around them.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"
#include "container/state.hpp"

namespace berth::container {

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pidFile;
  std::string consoleSocket;
  bool noPivot = false;
  bool noNewKeyring = false;
  int preserveFds = 0;
};

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  bool keep = false;  // foreground run: keep the stopped container's state
};

class Runtime {
 public:
  explicit Runtime(std::string root) : store_(std::move(root)) {}

  Status create(const CreateOptions& opts);
  Status start(const std::string& id);
  // Returns the container's exit status in the foreground (128+N if killed
  // by signal N), 0 when detached.
  Result<int> run(const RunOptions& opts);
  Result<std::string> state(const std::string& id);
  Status kill(const std::string& id, int signal, bool all);
  Status remove(const std::string& id, bool force);

  struct Entry {
    State state;
    ContainerStatus status;
  };
  Result<std::vector<Entry>> list();

  const Store& store() const { return store_; }

 private:
  Store store_;
};

// "TERM", "SIGTERM", "15" -> 15. Errors name the bad signal.
Result<int> parseSignal(const std::string& s);

}  // namespace berth::container
