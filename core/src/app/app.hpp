// What a command needs from the process: the global options, the merged config (loaded on first
// use) and the plugin host with the configured plugins loaded (on first use).
#pragma once

#include <memory>

#include "config/global_options.hpp"
#include "config/config.hpp"
#include "config/config_loader.hpp"
#include "plugin_host/plugin_host.hpp"

namespace sf {

class App {
 public:
  // Config from the global options and the process environment (ConfigSources::from_global).
  explicit App(GlobalOptions global);
  // Config from explicit sources (tests: no /etc or ~ files, a chosen environment).
  App(GlobalOptions global, ConfigSources sources);
  ~App();
  const GlobalOptions& global() const { return global_; }
  // Loads and validates the config once. Throws ConfigurationError.
  Config& config();
  // Loads the config's plugins (config().plugins) once, searching $SLURM_FACTORY_PLUGIN_PATH, the
  // config's plugins.search_paths, then the directory beside the binary. Throws PluginError.
  PluginHost& plugins();

 private:
  GlobalOptions global_;
  ConfigSources sources_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<PluginHost> plugins_;
};

}  // namespace sf
