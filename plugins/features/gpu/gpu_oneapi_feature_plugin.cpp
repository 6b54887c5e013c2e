// The gpu-oneapi feature: Level Zero. Packages come from each release's gpu_packages.oneapi; Slurm
// is configured with --with-oneapi and the build fails if gpu_oneapi.so is missing from the result.
#include <memory>

#include "gpu_feature.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace {

void register_plugin(sf::Registry& registry) {
  registry.add_feature("gpu-oneapi", [] {
    return std::make_unique<sf::GpuFeature>(
        sf::GpuFeatureSpec{"gpu-oneapi", "oneapi", "Level Zero", "--with-oneapi", "gpu_oneapi.so"});
  });
}

}  // namespace

SLURM_FACTORY_PLUGIN("feature-gpu-oneapi", "1.0.0", "GPU feature: Level Zero (gpu_oneapi.so)",
                     register_plugin)
