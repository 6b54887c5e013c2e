// The Registry the plugin host hands to a plugin's register function.
//
// Registration is a transaction: a plugin's factories are staged in a PluginRegistry and copied
// into the host's FactoryTable only when its register function returns normally. A plugin that
// throws, or that registers a name twice, leaves nothing behind.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "slurm_factory/errors.hpp"
#include "slurm_factory/registry.hpp"

namespace sf {

// A factory and the plugin that registered it.
template <typename F>
struct RegisteredFactory {
  F factory;
  std::string plugin;            // plugin name
  std::string file;              // its shared object
  AbiVersion abi = kAbiVersion;  // the ABI the plugin was built for
};

template <typename F>
using FactoryMap = std::map<std::string, RegisteredFactory<F>>;

// The factories of every loaded plugin, by kind and name.
struct FactoryTable {
  FactoryMap<ToolchainFamilyFactory> toolchains;
  FactoryMap<ContainerBackendFactory> backends;
  FactoryMap<CacheProviderFactory> caches;
  FactoryMap<PackagerFactory> packagers;
  FactoryMap<FeatureFactory> features;
  FactoryMap<ExecutorFactory> executors;
  FactoryMap<SignedRepositoryFactory> repositories;  // by packager name
  std::map<std::string, ExecutorInfo> executor_info;
  // What cache provider types declared with add_cache_provider_type (ABI 1.2), by type.
  std::map<std::string, CacheProviderInfo> cache_info;
};

// Human names of the kinds, as used in `provides` and in messages.
inline constexpr const char* kKindToolchain = "toolchain";
inline constexpr const char* kKindBackend = "backend";
inline constexpr const char* kKindCache = "cache";
inline constexpr const char* kKindPackager = "packager";
inline constexpr const char* kKindFeature = "feature";
inline constexpr const char* kKindExecutor = "executor";
inline constexpr const char* kKindRepository = "repository";

class PluginRegistry final : public Registry {
 public:
  // `committed` is the host's table; it is only read here (to refuse names already taken).
  // `plugin_abi`: the ABI the plugin's descriptor names (kept with each factory).
  PluginRegistry(PluginContext context, std::string plugin_name, const FactoryTable& committed,
                 AbiVersion plugin_abi = kAbiVersion);
  ~PluginRegistry() override;
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  const PluginContext& context() const override;
  void add_toolchain_family(const std::string& name, ToolchainFamilyFactory factory) override;
  void add_container_backend(const std::string& name, ContainerBackendFactory factory) override;
  void add_cache_provider(const std::string& type, CacheProviderFactory factory) override;
  void add_packager(const std::string& name, PackagerFactory factory) override;
  void add_feature(const std::string& name, FeatureFactory factory) override;
  void add_cache_provider_type(const std::string& type, CacheProviderFactory factory,
                               CacheProviderInfo info) override;
  void add_executor(const std::string& name, ExecutorFactory factory, ExecutorInfo info) override;
  void add_package_repository(const std::string& packager,
                              SignedRepositoryFactory factory) override;

  // What was staged, in registration order: {kind, name}.
  const std::vector<std::pair<std::string, std::string>>& provides() const { return provides_; }
  // The refusal this registry threw into the plugin, if any (so the host can report it as such
  // rather than as an exception of the plugin's own).
  const std::optional<PluginError>& refusal() const { return refusal_; }
  // Moves the staged factories into `table`. Call only after the register function returned.
  void commit_into(FactoryTable& table);

 private:
  template <typename F>
  void add(const char* kind, const std::string& name, F factory, FactoryMap<F>& staged,
           const FactoryMap<F>& committed);
  [[noreturn]] void refuse(PluginError error);

  PluginContext context_;
  std::string plugin_name_;
  const FactoryTable& committed_;
  AbiVersion plugin_abi_;
  FactoryTable staged_;
  std::vector<std::pair<std::string, std::string>> provides_;
  std::optional<PluginError> refusal_;
};

}  // namespace sf
