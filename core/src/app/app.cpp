#include "app/app.hpp"

#include <algorithm>
#include <utility>

#include "config/config_materialize.hpp"
#include "config/pipeline_executor.hpp"
#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/executor.hpp"
#include "slurm_factory/log.hpp"
#include "slurm_factory/packager.hpp"
#include "support/input_validation.hpp"

namespace sf {

App::App(GlobalOptions global)
    : global_(std::move(global)), sources_(ConfigSources::from_global(global_)) {}

App::App(GlobalOptions global, ConfigSources sources)
    : global_(std::move(global)), sources_(std::move(sources)) {}

App::~App() = default;

Config& App::config() {
  if (!config_) config_ = std::make_unique<Config>(load_config(sources_));
  return *config_;
}

PluginHost& App::plugins() {
  if (!plugins_) {
    const Config& c = config();
    auto host = std::make_unique<PluginHost>(log_ptr());
    const auto search_paths = default_plugin_search_paths(c.plugin_search_paths);
    for (const auto& name : c.plugins) host->load(name, search_paths);
    plugins_ = std::move(host);
  }
  return *plugins_;
}

namespace {

bool offered(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A plugin name made from a config value is a name, never a path: PluginHost::load takes a value
// with '/' or ending in ".so" as a file to open.
bool plain_plugin_word(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace

std::unique_ptr<ContainerBackend> App::container_backend(const std::string& name) {
  const Config& c = config();
  const std::string chosen = name.empty() ? c.default_backend : name;
  PluginHost& host = plugins();
  const auto& all = c.backends;
  const nlohmann::json settings =
      all.is_object() && all.contains(chosen) ? all[chosen] : nlohmann::json::object();
  return host.make_container_backend(chosen, settings);
}

std::unique_ptr<Packager> App::packager(const std::string& name, const nlohmann::json& settings) {
  PluginHost& host = plugins();
  if (!plain_plugin_word(name)) {
    throw UsageError("invalid packager name '" + printable(name) + "'", {{"packager", name}},
                     "a packager is named by lower-case letters, digits, '-' and '_' (tarball)");
  }
  if (!offered(host.packager_names(), name)) {
    host.load("packager-" + name, default_plugin_search_paths(config().plugin_search_paths));
  }
  if (settings.is_null()) {
    const auto& all = config().packagers;
    try {
      return host.make_packager(
          name, all.is_object() && all.contains(name) ? all[name] : nlohmann::json::object());
    } catch (ConfigurationError& e) {
      // The plugin names the setting it refuses (packagers.<name>.<key>); the core knows where
      // it was written.
      if (e.context_value("file").empty()) {
        const std::string setting = e.context_value("setting");
        const std::string origin =
            config().origin_of(setting.empty() ? "packagers." + name : setting);
        if (!origin.empty()) e.with("file", origin);
      }
      throw;
    }
  }
  return host.make_packager(name, settings);
}

std::unique_ptr<SignedRepository> App::package_repository(const std::string& name) {
  (void)packager(name);  // loads its plugin, checks the name
  PluginHost& host = plugins();
  if (!offered(host.repository_names(), name)) return nullptr;
  const auto& all = config().packagers;
  return host.make_package_repository(
      name, all.is_object() && all.contains(name) ? all[name] : nlohmann::json::object());
}

std::unique_ptr<CacheProvider> App::cache_provider(const CacheLayerSpec& layer) {
  PluginHost& host = plugins();
  if (!plain_plugin_word(layer.type)) {
    throw ConfigurationError("cache layer '" + printable(layer.name) + "' has an invalid type '" +
                                 printable(layer.type) + "'",
                             {{"key", "cache.layers"}, {"layer", layer.name}},
                             "a layer type is lower-case letters, digits, '-' and '_' (local, s3, "
                             "http); plugins are loaded by name, never by path");
  }
  if (!offered(host.cache_provider_types(), layer.type)) {
    host.load("cache-" + layer.type, default_plugin_search_paths(config().plugin_search_paths));
  }
  // Unknown settings keys are refused at file:line like every other config key (the type declares
  // its keys; one registered with add_cache_provider declares none and is not checked).
  if (const CacheProviderInfo* info = host.cache_provider_info(layer.type))
    config::check_layer_settings(config(), layer, info->settings);
  try {
    return host.make_cache_provider(layer);
  } catch (ConfigurationError& e) {
    // A provider refusing one of its settings names it; the core knows where it was written.
    if (e.context_value("file").empty()) {
      const std::string origin =
          config::layer_setting_origin(config(), layer.name, e.context_value("setting"));
      if (!origin.empty()) e.with("file", origin);
    }
    throw;
  }
}

std::unique_ptr<Executor> App::executor(const PipelineExecutor& executor) {
  PluginHost& host = plugins();
  if (!plain_plugin_word(executor.type) || executor.type == kLocalExecutor) {
    throw UsageError("invalid executor '" + printable(executor.type) + "'",
                     {{"executor", executor.type}},
                     "an executor plugin is named by lower-case letters, digits, '-' and '_' "
                     "(slurm); 'local' runs the cells in this process");
  }
  if (!offered(host.executor_names(), executor.type)) {
    host.load("executor-" + executor.type,
              default_plugin_search_paths(config().plugin_search_paths));
  }
  if (const ExecutorInfo* info = host.executor_info(executor.type))
    check_executor_settings(config(), executor, info->settings);
  try {
    return host.make_executor(executor.type, executor.settings);
  } catch (ConfigurationError& e) {
    // The plugin names the setting it refuses; the core knows where it was written.
    if (e.context_value("file").empty()) {
      const std::string setting = e.context_value("setting");
      const std::string origin = config().origin_of(
          setting.empty() ? executor.key_path : executor.key_path + "." + setting);
      if (!origin.empty()) e.with("file", origin);
    }
    throw;
  }
}

}  // namespace sf
