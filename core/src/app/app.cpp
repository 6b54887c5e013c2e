#include "app/app.hpp"

#include <utility>

#include "slurm_factory/log.hpp"

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

}  // namespace sf
