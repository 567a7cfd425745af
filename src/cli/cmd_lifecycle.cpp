// create, start, run, state, kill, delete, list.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "container/lifecycle.hpp"

namespace berth::cli {
namespace {

void addCreateFlags(CLI::App* cmd, container::CreateOptions& o) {
  cmd->add_option("-b,--bundle", o.bundle, "path to the bundle directory")->capture_default_str();
  cmd->add_option("--pid-file", o.pidFile, "write the init's pid to this file");
  cmd->add_option("--console-socket", o.consoleSocket, "unix socket that receives the pty master");
  cmd->add_flag("--no-pivot", o.noPivot, "use chroot instead of pivot_root (for ramfs roots)");
  cmd->add_flag("--no-new-keyring", o.noNewKeyring, "do not create a new session keyring");
  cmd->add_option("--preserve-fds", o.preserveFds, "pass fds 3..3+N-1 to the container")->check(CLI::NonNegativeNumber);
}

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

}  // namespace

void registerLifecycle(CLI::App& app, Context& ctx) {
  if (ctx.wants("create")) {
    auto createOpts = std::make_shared<container::CreateOptions>();
    auto* create = app.add_subcommand("create", "create a container");
    create->add_option("container-id", createOpts->id, "container id")->required();
    addCreateFlags(create, *createOpts);
    create->callback([&ctx, createOpts] {
      ctx.action = [&ctx, createOpts]() -> Result<int> {
        TRY(container::Runtime(ctx.globals.root).create(*createOpts));
        return 0;
      };
    });
  }

  if (ctx.wants("start")) {
    auto startId = std::make_shared<std::string>();
    auto* start = app.add_subcommand("start", "run the user program of a created container");
    start->add_option("container-id", *startId, "container id")->required();
    start->callback([&ctx, startId] {
      ctx.action = [&ctx, startId]() -> Result<int> {
        TRY(container::Runtime(ctx.globals.root).start(*startId));
        return 0;
      };
    });
  }

  if (ctx.wants("run")) {
    auto runOpts = std::make_shared<container::RunOptions>();
    auto* run = app.add_subcommand("run", "create and start a container");
    run->add_option("container-id", runOpts->create.id, "container id")->required();
    addCreateFlags(run, runOpts->create);
    run->add_flag("-d,--detach", runOpts->detach, "detach from the container's process");
    run->add_flag("--keep", runOpts->keep, "keep the container's state after it exits");
    run->callback([&ctx, runOpts] {
      ctx.action = [&ctx, runOpts]() -> Result<int> { return container::Runtime(ctx.globals.root).run(*runOpts); };
    });
  }

  if (ctx.wants("state")) {
    auto stateId = std::make_shared<std::string>();
    auto* state = app.add_subcommand("state", "print the state of a container as JSON");
    state->add_option("container-id", *stateId, "container id")->required();
    state->callback([&ctx, stateId] {
      ctx.action = [&ctx, stateId]() -> Result<int> {
        std::string json = TRY(container::Runtime(ctx.globals.root).state(*stateId));
        std::cout << json << "\n";
        return 0;
      };
    });
  }

  if (ctx.wants("kill")) {
    struct KillArgs {
      std::string id, signal = "SIGTERM";
      bool all = false;
    };
    auto killArgs = std::make_shared<KillArgs>();
    auto* kill = app.add_subcommand("kill", "send a signal to the container's init (default SIGTERM)");
    kill->add_option("container-id", killArgs->id, "container id")->required();
    kill->add_option("signal", killArgs->signal, "signal name or number")->capture_default_str();
    kill->add_flag("-a,--all", killArgs->all, "send the signal to every process of the container");
    kill->callback([&ctx, killArgs] {
      ctx.action = [&ctx, killArgs]() -> Result<int> {
        int sig = TRY_CTX(container::parseSignal(killArgs->signal), "kill");
        TRY(container::Runtime(ctx.globals.root).kill(killArgs->id, sig, killArgs->all));
        return 0;
      };
    });
  }

  if (ctx.wants("delete")) {
    struct DeleteArgs {
      std::string id;
      bool force = false;
    };
    auto delArgs = std::make_shared<DeleteArgs>();
    auto* del = app.add_subcommand("delete", "delete a stopped container (or any, with --force)");
    del->add_option("container-id", delArgs->id, "container id")->required();
    del->add_flag("-f,--force", delArgs->force, "kill the container first if it is running");
    del->callback([&ctx, delArgs] {
      ctx.action = [&ctx, delArgs]() -> Result<int> {
        TRY(container::Runtime(ctx.globals.root).remove(delArgs->id, delArgs->force));
        return 0;
      };
    });
  }

  if (ctx.wants("list") || ctx.wants("ls")) {
    struct ListArgs {
      std::string format = "table";
      bool quiet = false;
    };
    auto listArgs = std::make_shared<ListArgs>();
    auto* list = app.add_subcommand("list", "list containers");
    list->alias("ls");
    list->add_option("-f,--format", listArgs->format, "table or json")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();
    list->add_flag("-q,--quiet", listArgs->quiet, "print only the ids");
    list->callback([&ctx, listArgs] {
      ctx.action = [&ctx, listArgs]() -> Result<int> {
        auto entries = TRY(container::Runtime(ctx.globals.root).list());
        if (listArgs->quiet) {
          for (const auto& e : entries) std::cout << e.state.id << "\n";
          return 0;
        }
        if (listArgs->format == "json") {
          std::cout << "[";
          for (size_t i = 0; i < entries.size(); ++i) {
            std::string j = container::stateJson(entries[i].state, entries[i].status);
            std::cout << (i ? "," : "") << j;
          }
          std::cout << "]\n";
          return 0;
        }
        std::cout << pad("ID", 20) << pad("PID", 10) << pad("STATUS", 10) << pad("BUNDLE", 40) << pad("CREATED", 32)
                  << "OWNER\n";
        for (const auto& e : entries) {
          bool stopped = e.status == container::ContainerStatus::Stopped;
          std::cout << pad(e.state.id, 20) << pad(stopped ? "0" : std::to_string(e.state.pid), 10)
                    << pad(container::statusName(e.status), 10) << pad(e.state.bundle, 40) << pad(e.state.created, 32)
                    << (e.state.owner == "0" ? "root" : e.state.owner) << "\n";
        }
        return 0;
      };
    });
  }
}

}  // namespace berth::cli
