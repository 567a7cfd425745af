// pause, resume, update, ps, events: the verbs that work on a container's cgroup.
#include <iostream>
#include <iterator>
#include <memory>

#include "cli/commands.hpp"
#include "container/cgroup_ops.hpp"

namespace berth::cli {
namespace {

void registerPauseResume(CLI::App& app, Context& ctx) {
  auto pauseId = std::make_shared<std::string>();
  auto* pause = app.add_subcommand("pause", "suspend every process of a container (cgroup freezer)");
  pause->add_option("container-id", *pauseId, "container id")->required();
  pause->callback([&ctx, pauseId] {
    ctx.action = [&ctx, pauseId]() -> Result<int> {
      TRY(container::pauseContainer(container::Store(ctx.globals.root), *pauseId));
      return 0;
    };
  });

  auto resumeId = std::make_shared<std::string>();
  auto* resume = app.add_subcommand("resume", "resume every process of a paused container");
  resume->add_option("container-id", *resumeId, "container id")->required();
  resume->callback([&ctx, resumeId] {
    ctx.action = [&ctx, resumeId]() -> Result<int> {
      TRY(container::resumeContainer(container::Store(ctx.globals.root), *resumeId));
      return 0;
    };
  });
}

// Flags whose absence matters (only given ones override -r's values).
void addOptional(CLI::App* cmd, const std::string& name, std::optional<std::string>& target, const std::string& desc) {
  cmd->add_option_function<std::string>(name, [&target](const std::string& v) { target = v; }, desc);
}

void registerUpdate(CLI::App& app, Context& ctx) {
  struct Args {
    std::string id;
    container::UpdateFlags flags;
  };
  auto a = std::make_shared<Args>();
  auto* update = app.add_subcommand("update", "change the resource limits of a container");
  update->add_option("container-id", a->id, "container id")->required();
  auto& f = a->flags;
  update->add_option("-r,--resources", f.resourcesFile, "JSON linux.resources to apply (\"-\" reads stdin)");
  addOptional(update, "--memory", f.memory, "memory limit (e.g. 512m; -1 = unlimited)");
  addOptional(update, "--memory-swap", f.memorySwap, "memory plus swap limit (-1 = unlimited)");
  addOptional(update, "--memory-reservation", f.memoryReservation, "memory soft limit");
  addOptional(update, "--cpu-quota", f.cpuQuota, "CPU time in microseconds per --cpu-period (-1 = unlimited)");
  addOptional(update, "--cpu-period", f.cpuPeriod, "CPU CFS period in microseconds");
  addOptional(update, "--cpu-shares", f.cpuShares, "CPU shares (relative weight)");
  addOptional(update, "--cpu-rt-period", f.cpuRtPeriod, "CPU realtime period in microseconds");
  addOptional(update, "--cpu-rt-runtime", f.cpuRtRuntime, "CPU realtime runtime in microseconds");
  addOptional(update, "--cpuset-cpus", f.cpusetCpus, "CPUs the container may use (e.g. 0-1)");
  addOptional(update, "--cpuset-mems", f.cpusetMems, "memory nodes the container may use");
  addOptional(update, "--pids-limit", f.pidsLimit, "maximum number of tasks (0 or -1 = unlimited)");
  addOptional(update, "--blkio-weight", f.blkioWeight, "block IO weight, 10 to 1000");
  update->callback([&ctx, a] {
    ctx.action = [&ctx, a]() -> Result<int> {
      auto readStdin = [] { return std::string(std::istreambuf_iterator<char>(std::cin), {}); };
      auto resources = TRY_CTX(container::updateResources(a->flags, readStdin), "update");
      TRY(container::updateContainer(container::Store(ctx.globals.root), a->id, resources));
      return 0;
    };
  });
}

void registerPs(CLI::App& app, Context& ctx) {
  struct Args {
    std::string id;
    std::string format = "table";
    std::vector<std::string> psArgs;
  };
  auto a = std::make_shared<Args>();
  auto* ps = app.add_subcommand("ps", "list the processes of a container (ps ID [ps options], default -ef)");
  ps->add_option("container-id", a->id, "container id")->required();
  ps->add_option("-f,--format", a->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  // As runc: everything after the id that is not ours goes to ps(1) as is.
  ps->prefix_command();
  ps->fallthrough(false);
  ps->callback([&ctx, a, ps] {
    for (auto& extra : ps->remaining())
      if (extra != "--") a->psArgs.push_back(extra);
    ctx.action = [&ctx, a]() -> Result<int> {
      auto pids = TRY(container::containerPids(container::Store(ctx.globals.root), a->id));
      if (a->format == "json") {
        if (!a->psArgs.empty()) return Error("ps: ps options cannot be used with --format json");
        std::cout << "[";
        for (size_t i = 0; i < pids.size(); ++i) std::cout << (i ? "," : "") << pids[i];
        std::cout << "]\n";
        return 0;
      }
      std::cout << TRY_CTX(container::psTable(pids, a->psArgs), "ps");
      return 0;
    };
  });
}

void registerEvents(CLI::App& app, Context& ctx) {
  struct Args {
    std::string id;
    bool stats = false;
    std::string interval = "5s";
  };
  auto a = std::make_shared<Args>();
  auto* events = app.add_subcommand("events", "print container events (stats, oom) as JSON lines");
  events->add_option("container-id", a->id, "container id")->required();
  events->add_flag("--stats", a->stats, "print the container's stats once and exit");
  events->add_option("--interval", a->interval, "stats interval (e.g. 5s)")->capture_default_str();
  events->callback([&ctx, a] {
    ctx.action = [&ctx, a]() -> Result<int> {
      container::EventsOptions opts;
      opts.statsOnce = a->stats;
      opts.interval = TRY_CTX(container::parseInterval(a->interval), "events");
      TRY(container::streamEvents(container::Store(ctx.globals.root), a->id, opts,
                                  [](const std::string& line) { std::cout << line << "\n" << std::flush; }));
      return 0;
    };
  });
}

}  // namespace

void registerCgroupVerbs(CLI::App& app, Context& ctx) {
  registerPauseResume(app, ctx);
  registerUpdate(app, ctx);
  registerPs(app, ctx);
  registerEvents(app, ctx);
}

}  // namespace berth::cli
