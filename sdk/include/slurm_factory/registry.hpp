// What a plugin's register function receives: named factories by kind, and the host's services.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "slurm_factory/abi.hpp"

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
};

}  // namespace sf
