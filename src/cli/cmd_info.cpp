// spec, features.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "common/syscalls.hpp"
#include "spec/defaults.hpp"
#include "spec/features.hpp"

namespace berth::cli {

void registerInfo(CLI::App& app, Context& ctx) {
  struct SpecArgs {
    std::string bundle = ".";
    bool rootless = false;
  };
  auto specArgs = std::make_shared<SpecArgs>();
  auto* spec = app.add_subcommand("spec", "write a default config.json into the bundle");
  spec->add_option("-b,--bundle", specArgs->bundle, "bundle directory")->capture_default_str();
  spec->add_flag("--rootless", specArgs->rootless, "a config for an unprivileged user");
  spec->callback([&ctx, specArgs] {
    ctx.action = [specArgs]() -> Result<int> {
      std::string path = specArgs->bundle + "/config.json";
      if (::access(path.c_str(), F_OK) == 0) return Error("spec: " + path + " already exists");
      std::string json = spec::defaultConfigJson(specArgs->rootless, ::getuid(), ::getgid());
      TRY_CTX(sys::writeFileAtomic(path, json + "\n", 0644), "spec");
      return 0;
    };
  });

  auto* features = app.add_subcommand("features", "print what this runtime implements, as JSON");
  features->callback([&ctx] {
    ctx.action = []() -> Result<int> {
      std::cout << spec::featuresJson() << "\n";
      return 0;
    };
  });
}

}  // namespace berth::cli
