// What a command needs from the process: the global options, the merged config (loaded on first
// use) and the plugin host with the configured plugins loaded (on first use).
#pragma once

#include <memory>

#include "slurm_factory/core/cli/command.hpp"
#include "slurm_factory/core/config.hpp"
#include "slurm_factory/core/config_loader.hpp"
#include "slurm_factory/core/plugin_host.hpp"

namespace sf {

class App {
 public:
  // Config from the global options and the process environment (ConfigSources::from_global).
  explicit App(cli::GlobalOptions global);
  // Config from explicit sources (tests: no /etc or ~ files, a chosen environment).
  App(cli::GlobalOptions global, ConfigSources sources);
  ~App();
  const cli::GlobalOptions& global() const { return global_; }
  // Loads and validates the config once. Throws ConfigurationError.
  Config& config();
  // Loads the config's plugins (config().plugins) once, searching $SLURM_FACTORY_PLUGIN_PATH, the
  // config's plugins.search_paths, then the directory beside the binary. Throws PluginError.
  PluginHost& plugins();

 private:
  cli::GlobalOptions global_;
  ConfigSources sources_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<PluginHost> plugins_;
};

}  // namespace sf
