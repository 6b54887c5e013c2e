// The gpu-rocm feature: ROCm SMI. Packages come from each release's gpu_packages.rocm; Slurm is
// configured with --with-rsmi and the build fails if gpu_rsmi.so is missing from the result.
#include <memory>

#include "gpu_feature.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace {

void register_plugin(sf::Registry& registry) {
  registry.add_feature("gpu-rocm", [] {
    return std::make_unique<sf::GpuFeature>(
        sf::GpuFeatureSpec{"gpu-rocm", "rocm", "ROCm SMI", "--with-rsmi", "gpu_rsmi.so"});
  });
}

}  // namespace

SLURM_FACTORY_PLUGIN("feature-gpu-rocm", "1.0.0", "GPU feature: ROCm SMI (gpu_rsmi.so)",
                     register_plugin)
