// The shared behaviour of the GPU feature plugins (gpu-cuda, gpu-rocm, gpu-oneapi): one class,
// three parameter sets. A feature adds its flavour's -dev packages from the release data
// (ToolchainRelease::gpu_packages[flavour]) to the build image, passes its configure flag to Slurm,
// and names the Slurm plugin that must exist in the result, or the build fails. Built as the static
// library sf-feature-gpu-common of this folder, linked into each of the three plugins; not part of
// the SDK.
#pragma once

#include <string>
#include <vector>

#include "slurm_factory/feature.hpp"

namespace sf {

struct GpuFeatureSpec {
  std::string name;             // "gpu-cuda"
  std::string flavour;          // "cuda": the key into ToolchainRelease::gpu_packages
  std::string library;          // "NVML", for messages
  std::string configure_arg;    // "--with-nvml"
  std::string required_plugin;  // "gpu_nvml.so"
};

class GpuFeature : public Feature {
 public:
  explicit GpuFeature(GpuFeatureSpec spec);
  ~GpuFeature() override;
  std::string name() const override;
  // Throws ConfigurationError when the release has no gpu_packages entry for the flavour (naming
  // the release's origin, so a site can add them). An entry with an empty list is a site's explicit
  // "install nothing" (the base image provides the files, or a test removes them): no packages,
  // a warning, and configure plus the required-plugin check decide.
  std::vector<std::string> image_packages(const ToolchainRelease& release) const override;
  std::vector<std::string> configure_args() const override;
  std::vector<std::string> required_slurm_plugins() const override;
  const GpuFeatureSpec& spec() const { return spec_; }

 private:
  GpuFeatureSpec spec_;
};

}  // namespace sf
