#include "plugin_host/plugin_registry.hpp"

#include <string_view>

namespace sf {
namespace {

// "toolchain" -> "toolchain family", for messages.
std::string kind_label(std::string_view kind) {
  if (kind == kKindToolchain) return "toolchain family";
  if (kind == kKindBackend) return "container backend";
  if (kind == kKindCache) return "cache provider type";
  return std::string(kind);
}

template <typename F>
void move_all(FactoryMap<F>& from, FactoryMap<F>& to) {
  for (auto& [name, entry] : from) to.emplace(name, std::move(entry));
  from.clear();
}

}  // namespace

PluginRegistry::PluginRegistry(PluginContext context, std::string plugin_name,
                               const FactoryTable& committed, AbiVersion plugin_abi)
    : context_(std::move(context)),
      plugin_name_(std::move(plugin_name)),
      committed_(committed),
      plugin_abi_(plugin_abi) {}

PluginRegistry::~PluginRegistry() = default;

const PluginContext& PluginRegistry::context() const { return context_; }

void PluginRegistry::refuse(PluginError error) {
  refusal_ = error;
  throw error;
}

template <typename F>
void PluginRegistry::add(const char* kind, const std::string& name, F factory,
                         FactoryMap<F>& staged, const FactoryMap<F>& committed) {
  const std::string label = kind_label(kind);
  const std::string self = "plugin '" + plugin_name_ + "' (" + context_.plugin_file + ")";
  if (name.empty()) {
    refuse(PluginError(self + " registers a " + label + " with an empty name; expected a name",
                       {{"file", context_.plugin_file}, {"kind", kind}},
                       "give the factory a name in the plugin's register function"));
  }
  if (!factory) {
    refuse(PluginError(
        self + " registers " + label + " '" + name + "' with an empty factory; expected a callable",
        {{"file", context_.plugin_file}, {"kind", kind}, {"name", name}},
        "pass a function or lambda that creates the object"));
  }
  if (auto it = committed.find(name); it != committed.end()) {
    refuse(PluginError(self + " registers " + label + " '" + name +
                           "', already registered by plugin '" + it->second.plugin + "' (" +
                           it->second.file + ")",
                       {{"file", context_.plugin_file},
                        {"kind", kind},
                        {"name", name},
                        {"other file", it->second.file}},
                       "load only one of the two plugins (remove one from plugins.load), or "
                       "rename the " +
                           label + " in one of them"));
  }
  if (staged.count(name) != 0) {
    refuse(PluginError(self + " registers " + label + " '" + name + "' twice",
                       {{"file", context_.plugin_file}, {"kind", kind}, {"name", name}},
                       "register each name once in the plugin's register function"));
  }
  staged.emplace(name, RegisteredFactory<F>{std::move(factory), plugin_name_, context_.plugin_file,
                                            plugin_abi_});
  provides_.emplace_back(kind, name);
}

void PluginRegistry::add_toolchain_family(const std::string& name, ToolchainFamilyFactory factory) {
  add(kKindToolchain, name, std::move(factory), staged_.toolchains, committed_.toolchains);
}

void PluginRegistry::add_container_backend(const std::string& name,
                                           ContainerBackendFactory factory) {
  add(kKindBackend, name, std::move(factory), staged_.backends, committed_.backends);
}

void PluginRegistry::add_cache_provider(const std::string& type, CacheProviderFactory factory) {
  add(kKindCache, type, std::move(factory), staged_.caches, committed_.caches);
}

void PluginRegistry::add_cache_provider_type(const std::string& type, CacheProviderFactory factory,
                                             CacheProviderInfo info) {
  add(kKindCache, type, std::move(factory), staged_.caches, committed_.caches);
  staged_.cache_info[type] = std::move(info);
}

void PluginRegistry::add_packager(const std::string& name, PackagerFactory factory) {
  add(kKindPackager, name, std::move(factory), staged_.packagers, committed_.packagers);
}

void PluginRegistry::add_feature(const std::string& name, FeatureFactory factory) {
  add(kKindFeature, name, std::move(factory), staged_.features, committed_.features);
}

void PluginRegistry::add_executor(const std::string& name, ExecutorFactory factory,
                                  ExecutorInfo info) {
  add(kKindExecutor, name, std::move(factory), staged_.executors, committed_.executors);
  staged_.executor_info[name] = std::move(info);
}

void PluginRegistry::add_package_repository(const std::string& packager,
                                            SignedRepositoryFactory factory) {
  add(kKindRepository, packager, std::move(factory), staged_.repositories,
      committed_.repositories);
}

void PluginRegistry::commit_into(FactoryTable& table) {
  move_all(staged_.toolchains, table.toolchains);
  move_all(staged_.backends, table.backends);
  move_all(staged_.caches, table.caches);
  move_all(staged_.packagers, table.packagers);
  move_all(staged_.features, table.features);
  move_all(staged_.executors, table.executors);
  move_all(staged_.repositories, table.repositories);
  for (auto& [name, info] : staged_.executor_info) table.executor_info[name] = std::move(info);
  staged_.executor_info.clear();
  for (auto& [type, info] : staged_.cache_info) table.cache_info[type] = std::move(info);
  staged_.cache_info.clear();
}

}  // namespace sf
