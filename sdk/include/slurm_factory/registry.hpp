// What a plugin's register function receives: named factories by kind, and the host's services.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "slurm_factory/abi.hpp"
#include "slurm_factory/executor.hpp"
#include "slurm_factory/package_repository.hpp"

namespace spdlog {
class logger;
}

namespace sf {

class ToolchainFamily;
class ContainerBackend;
class CacheProvider;
class Packager;
class Feature;
struct CacheLayerSpec;

// Services the host hands to plugins. Plugins log through `logger`, never through their own
// spdlog registry.
struct PluginContext {
  std::shared_ptr<spdlog::logger> logger;
  AbiVersion host_abi;
  std::string plugin_file;  // the shared object being registered
};

using ToolchainFamilyFactory = std::function<std::unique_ptr<ToolchainFamily>()>;
// Settings come from the config (the backend's section), as JSON.
using ContainerBackendFactory =
    std::function<std::unique_ptr<ContainerBackend>(const nlohmann::json& settings)>;
using CacheProviderFactory = std::function<std::unique_ptr<CacheProvider>(const CacheLayerSpec&)>;
using PackagerFactory = std::function<std::unique_ptr<Packager>(const nlohmann::json& settings)>;
using FeatureFactory = std::function<std::unique_ptr<Feature>()>;

// What a cache provider type declares besides its factory (ABI 1.2).
struct CacheProviderInfo {
  // Every key a layer of this type may set under `settings`. The core refuses any other key as a
  // configuration error at its file:line:col, with a did-you-mean, like every other config key
  // (an empty list: the type takes no settings). A type registered with add_cache_provider (as
  // every plugin built for ABI 1.1 does) declares nothing and its keys are not checked.
  std::vector<std::string> settings;
};

class Registry {
 public:
  virtual ~Registry();

  virtual const PluginContext& context() const = 0;

  // Each add_* throws PluginError when the name is already taken (by this or another plugin).
  virtual void add_toolchain_family(const std::string& name, ToolchainFamilyFactory factory) = 0;
  virtual void add_container_backend(const std::string& name, ContainerBackendFactory factory) = 0;
  // `type` is the provider type named in a cache layer ("local", "s3", "http").
  virtual void add_cache_provider(const std::string& type, CacheProviderFactory factory) = 0;
  virtual void add_packager(const std::string& name, PackagerFactory factory) = 0;
  virtual void add_feature(const std::string& name, FeatureFactory factory) = 0;

  // ABI 1.2 (appended last: a plugin built for 1.1 never calls it). add_cache_provider with the
  // settings keys the type understands. The core's default (for a Registry that does not know
  // it) registers the factory and ignores `info`.
  virtual void add_cache_provider_type(const std::string& type, CacheProviderFactory factory,
                                       CacheProviderInfo info);

  // ABI 2.1 (appended last: a plugin built for 2.0 never calls it). An executor type
  // (executor.hpp), named in a pipeline's `executor:` or by `run --executor NAME`, with the
  // settings keys it understands. The core's default (a Registry that does not know executors)
  // refuses with a PluginError.
  virtual void add_executor(const std::string& name, ExecutorFactory factory, ExecutorInfo info);

  // ABI 3.1 (appended last: a 3.0 plugin never calls it). The repository (package_repository.hpp)
  // of the packager `packager`'s files ("deb": an APT repository). The core's default (a
  // Registry that does not know repositories) refuses with a PluginError.
  virtual void add_package_repository(const std::string& packager,
                                      SignedRepositoryFactory factory);
};

}  // namespace sf
