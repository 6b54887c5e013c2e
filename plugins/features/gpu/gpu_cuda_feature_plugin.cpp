// The gpu-cuda feature: NVML. Packages come from each release's gpu_packages.cuda; Slurm is
// configured with --with-nvml and the build fails if gpu_nvml.so is missing from the result.
#include <memory>

#include "gpu_feature.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace {

void register_plugin(sf::Registry& registry) {
  registry.add_feature("gpu-cuda", [] {
    return std::make_unique<sf::GpuFeature>(
        sf::GpuFeatureSpec{"gpu-cuda", "cuda", "NVML", "--with-nvml", "gpu_nvml.so"});
  });
}

}  // namespace

SLURM_FACTORY_PLUGIN("feature-gpu-cuda", "1.0.0", "GPU feature: NVML (gpu_nvml.so)",
                     register_plugin)
