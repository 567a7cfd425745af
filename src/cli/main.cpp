// berth-runtime: an OCI runtime with runc's command line.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "cli/commands.hpp"
#include "common/log.hpp"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.0.0"
#endif

namespace {

std::string defaultRoot() {
  if (::geteuid() == 0) return "/run/berth";
  // Rootless: $XDG_RUNTIME_DIR/berth, as runc uses $XDG_RUNTIME_DIR/runc.
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) return std::string(xdg) + "/berth";
  return "/tmp/berth-" + std::to_string(::geteuid());
}

// The verb in argv (the first word that is neither a global option nor its
// value), or null. Only its group of subcommands is registered: building the
// whole CLI11 tree is most of a short command's user-space time.
const char* findVerb(int argc, char** argv) {
  static const char* const kWithValue[] = {"--root", "--log", "--log-format", "--criu", "--rootless"};
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (a[0] != '-') return a;
    if (std::strcmp(a, "--") == 0) return i + 1 < argc ? argv[i + 1] : nullptr;
    for (const char* o : kWithValue)
      if (std::strcmp(a, o) == 0) ++i;  // "--root DIR"; "--root=DIR" is one word
  }
  return nullptr;
}

bool in(const char* verb, std::initializer_list<const char*> verbs) {
  for (const char* v : verbs)
    if (std::strcmp(verb, v) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace berth;
  cli::Context ctx;
  ctx.globals.root = defaultRoot();

  CLI::App app{"berth-runtime: an OCI runtime (runtime-spec 1.3) with runc's command line", "berth-runtime"};
  app.set_version_flag("-v,--version",
                       std::string("berth-runtime version ") + BERTH_VERSION + "\nspec: 1.3.0");
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--root", ctx.globals.root, "root directory for container state")->capture_default_str();
  app.add_option("--log", ctx.globals.log, "log file (default: stderr)");
  app.add_option("--log-format", ctx.globals.logFormat, "log format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_flag("--debug", ctx.globals.debug, "enable debug logging");
  app.add_flag("--systemd-cgroup", ctx.globals.systemdCgroup, "use systemd to manage cgroups (not supported yet)");
  // Accepted for compatibility with callers that pass them (Podman, containerd).
  std::string criu, rootless;
  app.add_option("--criu", criu, "ignored: checkpoint/restore is not supported")->group("");
  app.add_option("--rootless", rootless, "ignored: rootless mode is detected automatically")->group("");

  const char* verb = findVerb(argc, argv);
  ctx.verb = verb;
  const bool all = verb == nullptr;  // --help, --version, or no verb: CLI11 needs the whole tree
  bool known = false;
  auto group = [&](std::initializer_list<const char*> verbs) {
    bool mine = all || in(verb, verbs);
    known = known || mine;
    return mine;
  };
  if (group({"create", "start", "run", "state", "kill", "delete", "list", "ls"})) cli::registerLifecycle(app, ctx);
  if (group({"spec", "features"})) cli::registerInfo(app, ctx);
  if (group({"pause", "resume", "update", "ps", "events"})) cli::registerCgroupVerbs(app, ctx);
  if (group({"exec"})) cli::registerExec(app, ctx);
  if (!known) {
    std::fprintf(stderr, "berth-runtime: unknown command \"%s\" (berth-runtime --help lists them)\n", verb);
    return 1;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "berth-runtime: %s\n", e.what());
    return 1;
  }

  log::Format fmt = ctx.globals.logFormat == "json" ? log::Format::Json : log::Format::Text;
  if (!log::configure(ctx.globals.log, fmt, ctx.globals.debug)) {
    std::fprintf(stderr, "berth-runtime: --log %s: %s\n", ctx.globals.log.c_str(), std::strerror(errno));
    return 1;
  }
  if (ctx.globals.systemdCgroup) {
    log::error("--systemd-cgroup: the systemd cgroup driver is not supported yet; use the default cgroupfs driver");
    if (!ctx.globals.log.empty()) std::fprintf(stderr, "berth-runtime: --systemd-cgroup is not supported yet\n");
    return 1;
  }
  if (!ctx.action) return 0;
  auto result = ctx.action();
  if (!result) {
    // One error line, whatever the chain holds (hook output may span lines).
    std::string msg = result.error().message();
    for (char& c : msg)
      if (c == '\n' || c == '\r') c = ' ';
    log::error(msg);
    // With a log file, the error also reaches the caller's stderr, as runc.
    if (!ctx.globals.log.empty()) std::fprintf(stderr, "berth-runtime: %s\n", msg.c_str());
    return 1;
  }
  return *result;
}
