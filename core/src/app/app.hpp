// What a command needs from the process: the global options, the merged config (loaded on first
// use) and the plugin host with the configured plugins loaded (on first use).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.hpp"
#include "config/config_loader.hpp"
#include "config/global_options.hpp"
#include "plugin_host/plugin_host.hpp"

namespace sf {

struct CacheLayerSpec;
class CacheProvider;
class ContainerBackend;
class Packager;
class Executor;
struct PipelineExecutor;

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

  // The one way to get a plugin's product by name, made with the config's settings. Throw
  // PluginError naming what is known, ConfigurationError at the config's file:line for a setting
  // the plugin refuses.
  //
  // The container backend `name` ("" = the config's `backend`) with `backends.<name>` settings,
  // from the plugins the config loads.
  std::unique_ptr<ContainerBackend> container_backend(const std::string& name = {});
  // The packager `name` with `settings` (null: the config's packagers.<name>); loads
  // packager-<name> when no loaded plugin offers it.
  std::unique_ptr<Packager> packager(const std::string& name,
                                     const nlohmann::json& settings = nullptr);
  // The package repository of packager `name`'s files (packages.deb: APT), or nullptr when its
  // plugin registers none; loads packager-<name> when no loaded plugin offers the packager.
  std::unique_ptr<SignedRepository> package_repository(const std::string& name);
  // The cache provider of one configured layer; loads cache-<type> when no loaded plugin offers it,
  // and checks the layer's settings against the keys the type declares.
  std::unique_ptr<CacheProvider> cache_provider(const CacheLayerSpec& layer);
  // The executor of a pipeline (not "local", which is no plugin); loads executor-<type> when no
  // loaded plugin offers it, and checks the settings against the keys the type declares.
  std::unique_ptr<Executor> executor(const PipelineExecutor& executor);

 private:
  GlobalOptions global_;
  ConfigSources sources_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<PluginHost> plugins_;
};

}  // namespace sf
