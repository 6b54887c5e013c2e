// Build variants (gpu-cuda, gpu-rocm, gpu-oneapi). (Owned by the end-to-end work: extend it there.)
#pragma once

#include <string>
#include <vector>

namespace sf {

struct ToolchainRelease;

class Feature {
 public:
  virtual ~Feature();
  virtual std::string name() const = 0;  // "gpu-cuda"
  // Extra packages the build image needs for this feature on a release.
  virtual std::vector<std::string> image_packages(const ToolchainRelease& release) const = 0;
  // Extra configure arguments for Slurm.
  virtual std::vector<std::string> configure_args() const = 0;
  // Slurm plugins that must exist in the result, or the build fails (e.g. "gpu_nvml.so").
  virtual std::vector<std::string> required_slurm_plugins() const = 0;
};

}  // namespace sf
