#include "plugin_host/plugin_host.hpp"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <boost/dll/shared_library.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>

#include "plugin_host/plugin_descriptor.hpp"
#include "plugin_host/plugin_file_checks.hpp"
#include "plugin_host/plugin_refusal.hpp"
#include "plugin_host/plugin_registry.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "slurm_factory/plugin.hpp"
#include "support/strings.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

// Every library the host has opened stays loaded until the process exits, even after its host is
// gone: objects, factories and exceptions made by plugin code must never outlive that code. The
// list is deliberately leaked (never destroyed, so no dlclose at exit either).
void keep_loaded_forever(boost::dll::shared_library library) {
  static std::mutex* mutex = new std::mutex;
  static auto* libraries = new std::vector<boost::dll::shared_library>;
  std::lock_guard lock(*mutex);
  libraries->push_back(std::move(library));
}

using plugin_refusal::in_quotes;
using plugin_refusal::kRemoveHint;

template <typename F>
std::vector<std::string> names_of(const FactoryMap<F>& map) {
  std::vector<std::string> names;
  names.reserve(map.size());
  for (const auto& [name, entry] : map) names.push_back(name);
  return names;
}

template <typename F>
const RegisteredFactory<F>& find_factory(const FactoryMap<F>& map, const std::string& label,
                                         const std::string& name) {
  auto it = map.find(name);
  if (it == map.end()) {
    const auto known = names_of(map);
    throw PluginError("no loaded plugin provides " + label + " " + in_quotes(name) +
                          " (loaded: " + (known.empty() ? std::string("none") : join(known)) + ")",
                      {{"kind", label}, {"name", name}},
                      "add the plugin that provides it to plugins.load in your config, or pick "
                      "one of the loaded ones; `slurm-factory plugins list` shows what is loaded");
  }
  return it->second;
}

// Calls a plugin's factory: core errors pass through; anything else becomes a PluginError naming
// the plugin. A null result is refused.
template <typename F, typename... Args>
auto call_factory(const RegisteredFactory<F>& entry, const std::string& label,
                  const std::string& name, Args&&... args) {
  decltype(entry.factory(std::forward<Args>(args)...)) object;
  try {
    object = entry.factory(std::forward<Args>(args)...);
  } catch (const SlurmFactoryError&) {
    throw;
  } catch (const std::exception& e) {
    throw PluginError("plugin " + in_quotes(entry.plugin) + " failed to create " + label + " " +
                          in_quotes(name) + ": " + e.what(),
                      {{"file", entry.file}, {"kind", label}, {"name", name}},
                      "fix the plugin (its factories should throw sf::SlurmFactoryError "
                      "subclasses), " +
                          kRemoveHint);
  } catch (...) {
    throw PluginError("plugin " + in_quotes(entry.plugin) + " failed to create " + label + " " +
                          in_quotes(name) + " with a non-standard exception",
                      {{"file", entry.file}, {"kind", label}, {"name", name}},
                      "fix the plugin, " + kRemoveHint);
  }
  if (!object) {
    throw PluginError("plugin " + in_quotes(entry.plugin) + " returned no object for " + label +
                          " " + in_quotes(name),
                      {{"file", entry.file}, {"kind", label}, {"name", name}},
                      "fix the plugin's factory, " + kRemoveHint);
  }
  return object;
}

}  // namespace

struct PluginHost::Impl {
  std::shared_ptr<spdlog::logger> logger;
  // Declared before the factories: destroyed after them (the libraries are also kept loaded for
  // the life of the process; see keep_loaded_forever).
  std::vector<boost::dll::shared_library> libraries;
  FactoryTable factories;
  std::deque<LoadedPlugin> plugins;  // a deque: references handed out stay valid
};

PluginHost::PluginHost(std::shared_ptr<spdlog::logger> logger) : impl_(std::make_unique<Impl>()) {
  impl_->logger = logger ? std::move(logger) : log_ptr();
}

PluginHost::~PluginHost() = default;

const LoadedPlugin& PluginHost::load_file(const fs::path& requested) {
  const std::string shown = requested.string();
  std::error_code ec;
  if (!fs::exists(requested, ec)) {
    throw PluginError("plugin file " + shown + " does not exist; expected a shared object (.so)",
                      {{"file", shown}},
                      "check the path, build or install the plugin, " + kRemoveHint);
  }
  if (!fs::is_regular_file(requested, ec)) {
    throw PluginError(
        "plugin file " + shown + " is not a regular file; expected a shared object (.so)",
        {{"file", shown}}, "point at the plugin's .so file, " + kRemoveHint);
  }
  fs::path file = fs::canonical(requested, ec);
  if (ec) file = fs::absolute(requested);
  const std::string path = file.string();

  // The same file twice (e.g. named by two config layers) is loaded once.
  for (const auto& p : impl_->plugins) {
    if (p.file == file) {
      impl_->logger->debug("plugin {} already loaded from {}", p.name, path);
      return p;
    }
  }

  check_plugin_file(file);

  boost::dll::shared_library library;
  {
    boost::dll::fs::error_code load_ec;
    (void)dlerror();  // clear any stale message
    library.load(boost::dll::fs::path(path),
                 boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, load_ec);
    if (load_ec || !library.is_loaded()) {
      const char* why = dlerror();
      throw PluginError("plugin file " + path + " could not be loaded as a shared object: " +
                            (why != nullptr ? std::string(why) : load_ec.message()),
                        {{"file", path}},
                        "check that it was built for this machine and that its libraries are "
                        "installed (`ldd " +
                            path + "`), " + kRemoveHint);
    }
  }

  const PluginDescriptor& descriptor = read_plugin_descriptor(library, path);
  const AbiVersion abi{descriptor.abi_major, descriptor.abi_minor};

  LoadedPlugin loaded;
  loaded.name = descriptor.name;
  loaded.version = descriptor.version != nullptr ? descriptor.version : "";
  loaded.description = descriptor.description != nullptr ? descriptor.description : "";
  loaded.abi = abi;
  loaded.toolchain = descriptor.toolchain_fingerprint;
  loaded.file = file;

  for (const auto& p : impl_->plugins) {
    if (p.name == loaded.name) {
      throw PluginError("plugin file " + path + " is named " + in_quotes(loaded.name) +
                            ", but plugin " + in_quotes(p.name) + " is already loaded from " +
                            p.file.string() + "; expected plugin names to be unique",
                        {{"file", path}, {"plugin", loaded.name}, {"other file", p.file.string()}},
                        "load only one of the two files: remove one from plugins.load or from "
                        "the plugin search paths");
    }
  }

  // From here on plugin code runs: whatever happens, the library stays loaded.
  impl_->libraries.push_back(library);
  keep_loaded_forever(std::move(library));

  PluginContext context{impl_->logger, kAbiVersion, path};
  PluginRegistry registry(std::move(context), loaded.name, impl_->factories, abi);
  const std::string nothing_kept = "; nothing it registered was kept";
  // A failure of the register function: the registry's own refusal of a name when there is one
  // (that is the real cause), else the plugin's error with `remediation`.
  auto register_failure = [&](const std::string& what, const std::string& remediation) {
    if (registry.refusal()) return PluginError(*registry.refusal());
    return PluginError("plugin " + in_quotes(loaded.name) + " (" + path +
                           ") failed in its register function: " + what + nothing_kept,
                       {{"file", path}, {"plugin", loaded.name}}, remediation);
  };
  try {
    descriptor.register_plugin(registry);
  } catch (const SlurmFactoryError& e) {
    throw register_failure(
        e.what(), e.remediation().empty() ? "fix the plugin, " + kRemoveHint : e.remediation());
  } catch (const std::exception& e) {
    throw register_failure(
        e.what(), "fix the plugin (see its documentation or log with -vv), " + kRemoveHint);
  } catch (...) {
    throw PluginError("plugin " + in_quotes(loaded.name) + " (" + path +
                          ") failed in its register function with a non-standard exception" +
                          nothing_kept,
                      {{"file", path}, {"plugin", loaded.name}},
                      "fix the plugin: throw sf::SlurmFactoryError subclasses, " + kRemoveHint);
  }
  if (registry.refusal()) {
    // The plugin swallowed the registry's refusal; it is refused all the same.
    PluginError refusal = *registry.refusal();
    throw refusal;
  }

  loaded.provides = registry.provides();
  registry.commit_into(impl_->factories);
  impl_->logger->debug("loaded plugin {} {} (ABI {}) from {}", loaded.name, loaded.version,
                       loaded.abi.str(), path);
  impl_->plugins.push_back(std::move(loaded));
  return impl_->plugins.back();
}

const LoadedPlugin& PluginHost::load(const std::string& name,
                                     const std::vector<fs::path>& search_paths) {
  // A path (has a slash or ends in .so) is loaded as is.
  if (name.find('/') != std::string::npos ||
      (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0)) {
    return load_file(name);
  }
  for (const auto& p : impl_->plugins) {
    if (p.name == name) return p;
  }
  const std::string file_name = "libsf-" + name + ".so";
  std::vector<std::string> searched;
  for (const auto& dir : search_paths) {
    if (dir.is_relative()) {
      throw PluginError("plugin search path '" + dir.string() +
                            "' is relative: it would depend on the current folder",
                        {{"plugin", name}, {"search path", dir.string()}},
                        "write an absolute path in plugins.search_paths or "
                        "$SLURM_FACTORY_PLUGIN_PATH");
    }
    const fs::path candidate = dir / file_name;
    std::error_code ec;
    if (fs::exists(candidate, ec)) return load_file(candidate);
    searched.push_back(dir.string() + (fs::is_directory(dir, ec) ? "" : " (missing)"));
  }
  throw PluginError("plugin " + in_quotes(name) + " not found: expected " + file_name +
                        " in one of the plugin search paths (searched: " +
                        (searched.empty() ? std::string("no paths") : join(searched)) + ")",
                    {{"plugin", name}, {"file name", file_name}},
                    "install the plugin into one of these directories, add its directory to "
                    "plugins.search_paths or $SLURM_FACTORY_PLUGIN_PATH, or fix the name in "
                    "plugins.load");
}

const std::deque<LoadedPlugin>& PluginHost::plugins() const { return impl_->plugins; }

std::vector<std::string> PluginHost::toolchain_family_names() const {
  return names_of(impl_->factories.toolchains);
}
std::vector<std::string> PluginHost::container_backend_names() const {
  return names_of(impl_->factories.backends);
}
std::vector<std::string> PluginHost::cache_provider_types() const {
  return names_of(impl_->factories.caches);
}
std::vector<std::string> PluginHost::packager_names() const {
  return names_of(impl_->factories.packagers);
}
std::vector<std::string> PluginHost::feature_names() const {
  return names_of(impl_->factories.features);
}

std::vector<std::string> PluginHost::executor_names() const {
  return names_of(impl_->factories.executors);
}

std::vector<std::string> PluginHost::repository_names() const {
  return names_of(impl_->factories.repositories);
}

std::unique_ptr<SignedRepository> PluginHost::make_package_repository(
    const std::string& packager, const nlohmann::json& settings) const {
  const std::string label = "package repository of packager";
  return call_factory(find_factory(impl_->factories.repositories, label, packager), label,
                      packager, settings);
}

std::unique_ptr<ToolchainFamily> PluginHost::make_toolchain_family(const std::string& name) const {
  const std::string label = "toolchain family";
  return call_factory(find_factory(impl_->factories.toolchains, label, name), label, name);
}

std::unique_ptr<ContainerBackend> PluginHost::make_container_backend(
    const std::string& name, const nlohmann::json& settings) const {
  const std::string label = "container backend";
  return call_factory(find_factory(impl_->factories.backends, label, name), label, name, settings);
}

std::unique_ptr<CacheProvider> PluginHost::make_cache_provider(const CacheLayerSpec& spec) const {
  const std::string label = "cache provider type";
  return call_factory(find_factory(impl_->factories.caches, label, spec.type), label, spec.type,
                      spec);
}

const CacheProviderInfo* PluginHost::cache_provider_info(const std::string& type) const {
  auto it = impl_->factories.cache_info.find(type);
  return it == impl_->factories.cache_info.end() ? nullptr : &it->second;
}

std::unique_ptr<Packager> PluginHost::make_packager(const std::string& name,
                                                    const nlohmann::json& settings) const {
  const std::string label = "packager";
  return call_factory(find_factory(impl_->factories.packagers, label, name), label, name, settings);
}

std::unique_ptr<Feature> PluginHost::make_feature(const std::string& name) const {
  const std::string label = "feature";
  return call_factory(find_factory(impl_->factories.features, label, name), label, name);
}

std::unique_ptr<Executor> PluginHost::make_executor(const std::string& name,
                                                    const nlohmann::json& settings) const {
  const std::string label = "executor";
  return call_factory(find_factory(impl_->factories.executors, label, name), label, name, settings);
}

const ExecutorInfo* PluginHost::executor_info(const std::string& name) const {
  auto it = impl_->factories.executor_info.find(name);
  return it == impl_->factories.executor_info.end() ? nullptr : &it->second;
}

}  // namespace sf
