// Out-of-line virtual destructors of the SDK interfaces: their vtables and type_info live in the
// core library, so objects and exceptions crossing the plugin boundary have one identity.
#include <system_error>

#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/executor.hpp"
#include "slurm_factory/feature.hpp"
#include "slurm_factory/package_repository.hpp"
#include "slurm_factory/packager.hpp"
#include "slurm_factory/registry.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {

Registry::~Registry() = default;
ToolchainFamily::~ToolchainFamily() = default;
ContainerBackend::~ContainerBackend() = default;
CacheProvider::~CacheProvider() = default;
Packager::~Packager() = default;
Feature::~Feature() = default;
Executor::~Executor() = default;
RepositoryStore::~RepositoryStore() = default;
RepositorySigner::~RepositorySigner() = default;
SignedRepository::~SignedRepository() = default;

void Registry::add_package_repository(const std::string& packager,
                                      SignedRepositoryFactory /*factory*/) {
  throw PluginError("this registry does not take package repositories (packager '" + packager +
                        "')",
                    {{"packager", packager}},
                    "load the plugin with a slurm-factory whose plugin ABI is 3.1 or newer");
}

void Registry::add_executor(const std::string& name, ExecutorFactory /*factory*/,
                            ExecutorInfo /*info*/) {
  throw PluginError("this registry does not take executors (executor '" + name + "')",
                    {{"executor", name}},
                    "load the plugin with a slurm-factory whose plugin ABI is 2.1 or newer");
}

void Registry::add_cache_provider_type(const std::string& type, CacheProviderFactory factory,
                                       CacheProviderInfo /*info*/) {
  add_cache_provider(type, std::move(factory));
}

Expected<void> CacheProvider::get_at_most(const std::string& key,
                                          const std::filesystem::path& destination,
                                          std::uint64_t max_bytes) {
  if (auto r = get(key, destination); !r) return r;
  std::error_code ec;
  const auto size = std::filesystem::file_size(destination, ec);
  if (ec)
    return Failure::error(location() + ": cannot read " + destination.string() + ": " +
                          ec.message());
  if (size > max_bytes) {
    std::filesystem::remove(destination, ec);
    return Failure::error("cache layer '" + name() + "' (" + location() + ") sent " +
                          std::to_string(size) + " bytes for " + key + ", more than the " +
                          std::to_string(max_bytes) +
                          " its manifest or listing declares; refused, nothing was kept");
  }
  return {};
}

}  // namespace sf
