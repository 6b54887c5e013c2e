// What a command needs from the process: the global options, the merged config (loaded on first
// use) and the plugin host with the configured plugins loaded (on first use).
#pragma once

#include <memory>

#include "slurm_factory/core/cli/command.hpp"
#include "slurm_factory/core/config.hpp"
#include "slurm_factory/core/plugin_host.hpp"

namespace sf {

class App {
 public:
  explicit App(cli::GlobalOptions global);
  ~App();
  const cli::GlobalOptions& global() const { return global_; }
  // Loads and validates the config once. Throws ConfigurationError.
  Config& config();
  // Loads the config's plugins once. Throws PluginError.
  PluginHost& plugins();

 private:
  cli::GlobalOptions global_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<PluginHost> plugins_;
};

}  // namespace sf
