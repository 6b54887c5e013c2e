#include "slurm_factory/gpu_feature.hpp"

#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {

GpuFeature::GpuFeature(GpuFeatureSpec spec) : spec_(std::move(spec)) {}
GpuFeature::~GpuFeature() = default;

std::string GpuFeature::name() const { return spec_.name; }

std::vector<std::string> GpuFeature::image_packages(const ToolchainRelease& release) const {
  auto it = release.gpu_packages.find(spec_.flavour);
  if (it == release.gpu_packages.end() || it->second.empty()) {
    throw ConfigurationError(
        "toolchain " + release.name + " has no " + spec_.library + " development package for " +
            spec_.name,
        {{"toolchain", release.name}, {"feature", spec_.name}, {"release data", release.origin}},
        "add gpu_packages." + spec_.flavour + " to the release (a site release can use based_on: " +
            release.name + "), or build without --gpu " + spec_.flavour);
  }
  return it->second;
}

std::vector<std::string> GpuFeature::configure_args() const { return {spec_.configure_arg}; }

std::vector<std::string> GpuFeature::required_slurm_plugins() const {
  return {spec_.required_plugin};
}

}  // namespace sf
