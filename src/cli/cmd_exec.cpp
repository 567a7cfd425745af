// exec: runc's flags, one to one.
#include <memory>

#include "cli/commands.hpp"
#include "container/exec.hpp"

namespace berth::cli {

void registerExec(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<container::ExecOptions>();
  auto* cmd = app.add_subcommand("exec", "run a process in a running container");
  // Flags come before the id; everything from the id on is the id and the
  // command, even words that look like flags: `exec ID sh -c 'ls -l'`.
  cmd->add_option("container-id", o->id, "container id")->required();
  cmd->add_option("command", o->args, "the command and its arguments (unless --process)");
  cmd->positionals_at_end();
  cmd->add_option("-p,--process", o->processFile, "path to a process.json (runtime-spec process object)");
  cmd->add_flag("-t,--tty", o->tty, "allocate a pseudo-TTY");
  cmd->add_option("--console-socket", o->consoleSocket, "unix socket that receives the pty master");
  cmd->add_option("--cwd", o->cwd, "current working directory in the container");
  cmd->add_option("-e,--env", o->env, "set an environment variable (KEY=VALUE)")->allow_extra_args(false);
  cmd->add_option("-u,--user", o->user, "uid[:gid]");
  cmd->add_option("-g,--additional-gids", o->additionalGids, "additional gid")->allow_extra_args(false);
  cmd->add_option("-c,--cap", o->caps, "add a capability (CAP_...)")->allow_extra_args(false);
  cmd->add_flag("--no-new-privs", o->noNewPrivs, "set no_new_privs for the process");
  cmd->add_option("-a,--apparmor", o->apparmor, "AppArmor profile");
  cmd->add_option("--process-label", o->processLabel, "SELinux process label");
  cmd->add_flag("-d,--detach", o->detach, "detach from the process");
  cmd->add_option("--pid-file", o->pidFile, "write the process's host pid to this file");
  cmd->add_option("--preserve-fds", o->preserveFds, "pass fds 3..3+N-1 to the process")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--ignore-paused", o->ignorePaused, "allow exec in a paused container");
  cmd->add_option("--cgroup", o->cgroup, "run in this sub-cgroup of the container's cgroup");
  cmd->callback([&ctx, o] {
    ctx.action = [&ctx, o]() -> Result<int> { return container::exec(container::Store(ctx.globals.root), *o); };
  });
}

}  // namespace berth::cli
