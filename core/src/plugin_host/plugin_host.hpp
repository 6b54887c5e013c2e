// Loads plugin shared objects (Boost.DLL), checks their ABI version and toolchain fingerprint
// (plugin_descriptor.hpp), runs their register functions and keeps the factories they add.
// Libraries stay loaded for the life of the host (no unload: objects and exceptions from a plugin
// never outlive its code). Refusals are PluginErrors naming the file,
// what was expected and found, and what to do.
#pragma once

#include <deque>
#include <filesystem>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

#include "slurm_factory/abi.hpp"
#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/executor.hpp"
#include "slurm_factory/feature.hpp"
#include "slurm_factory/packager.hpp"
#include "slurm_factory/registry.hpp"
#include "slurm_factory/toolchain.hpp"

namespace spdlog {
class logger;
}

namespace sf {

struct LoadedPlugin {
  std::string name;  // "toolchain-debian"
  std::string version;
  std::string description;
  AbiVersion abi;
  std::string toolchain;  // its toolchain fingerprint (equal to the host's: checked at load)
  std::filesystem::path file;
  // What it registered: {kind, name}, kind one of toolchain, backend, cache, packager, feature,
  // executor.
  std::vector<std::pair<std::string, std::string>> provides;
};

// Search order: $SLURM_FACTORY_PLUGIN_PATH (colon-separated), the config's plugins.search_paths
// (`configured`), then <dir of the running binary>/../lib/slurm-factory/plugins (and the same
// directory relative to the core library, when that differs). Duplicates are dropped.
std::vector<std::filesystem::path> default_plugin_search_paths(
    const std::vector<std::filesystem::path>& configured = {});
// The parts: $SLURM_FACTORY_PLUGIN_PATH alone, and the directories beside the binary/library alone.
std::vector<std::filesystem::path> env_plugin_search_paths();
std::vector<std::filesystem::path> builtin_plugin_search_paths();

class PluginHost {
 public:
  explicit PluginHost(std::shared_ptr<spdlog::logger> logger = nullptr);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Loads one shared object by path. Throws PluginError. The returned reference (like every entry
  // of plugins()) stays valid for the life of the host.
  const LoadedPlugin& load_file(const std::filesystem::path& file);
  // Loads `name` ("toolchain-debian", or a path) from the first search path that has
  // libsf-<name>.so. Throws PluginError listing the paths searched.
  const LoadedPlugin& load(const std::string& name,
                           const std::vector<std::filesystem::path>& search_paths);

  // The loaded plugins, in load order.
  const std::deque<LoadedPlugin>& plugins() const;

  std::vector<std::string> toolchain_family_names() const;
  std::vector<std::string> container_backend_names() const;
  std::vector<std::string> cache_provider_types() const;
  std::vector<std::string> packager_names() const;
  std::vector<std::string> feature_names() const;
  std::vector<std::string> executor_names() const;
  // The packagers that have a package repository (add_package_repository).
  std::vector<std::string> repository_names() const;

  // Factories; each throws PluginError naming the kind, the name and the loaded alternatives.
  std::unique_ptr<ToolchainFamily> make_toolchain_family(const std::string& name) const;
  std::unique_ptr<ContainerBackend> make_container_backend(const std::string& name,
                                                           const nlohmann::json& settings) const;
  std::unique_ptr<CacheProvider> make_cache_provider(const CacheLayerSpec& spec) const;
  // What the type declared with add_cache_provider_type (its settings keys), or nullptr when it
  // declared nothing (one that used add_cache_provider).
  const CacheProviderInfo* cache_provider_info(const std::string& type) const;
  std::unique_ptr<Packager> make_packager(const std::string& name,
                                          const nlohmann::json& settings) const;
  std::unique_ptr<Feature> make_feature(const std::string& name) const;
  std::unique_ptr<Executor> make_executor(const std::string& name,
                                          const nlohmann::json& settings) const;
  // What executor `name` declared (nullptr when none is registered under that name).
  const ExecutorInfo* executor_info(const std::string& name) const;
  // The repository of packager `packager`'s files; PluginError when none is registered.
  std::unique_ptr<SignedRepository> make_package_repository(const std::string& packager,
                                                             const nlohmann::json& settings) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf
