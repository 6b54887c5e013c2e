// Out-of-line virtual destructors of the SDK interfaces: their vtables and type_info live in the core
// library, so objects and exceptions crossing the plugin boundary have one identity.
#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/feature.hpp"
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

}  // namespace sf
