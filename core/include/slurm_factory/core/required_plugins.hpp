// The check that ends GPU builds' most common silent failure: Slurm's configure quietly builds
// without gpu_nvml.so (or gpu_rsmi.so, gpu_oneapi.so) when it does not find the -dev files. Each
// feature names the Slurm plugins it exists for (Feature::required_slurm_plugins); every one must
// be in the assembled view's lib/slurm/.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sf {

class Feature;

struct MissingPlugin {
  std::string feature;  // "gpu-cuda"
  std::string plugin;   // "gpu_nvml.so"
};

// The required plugins of `features` that `view`/lib/slurm/ lacks (a regular file or a link to
// one), in feature order.
std::vector<MissingPlugin> missing_required_plugins(const std::filesystem::path& view,
                                                    const std::vector<const Feature*>& features);

}  // namespace sf
