#include "gpu_feature.hpp"

#include <spdlog/spdlog.h>

#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {

GpuFeature::GpuFeature(GpuFeatureSpec spec) : spec_(std::move(spec)) {}
GpuFeature::~GpuFeature() = default;

std::string GpuFeature::name() const { return spec_.name; }

std::vector<std::string> GpuFeature::image_packages(const ToolchainRelease& release) const {
  auto it = release.gpu_packages.find(spec_.flavour);
  if (it == release.gpu_packages.end()) {
    throw ConfigurationError(
        "toolchain " + release.name + " has no " + spec_.library + " development package for " +
            spec_.name,
        {{"toolchain", release.name}, {"feature", spec_.name}, {"release data", release.origin}},
        "add gpu_packages." + spec_.flavour + " to the release (a site release can use based_on: " +
            release.name + "), or build without --gpu " + spec_.flavour);
  }
  // An empty list is a site's choice (`gpu_packages: {oneapi: []}`): the base image provides the
  // development files itself, or the site wants none. Configure and the required-plugin check still
  // run, so a build image without them fails the build instead of shipping without the plugin.
  if (it->second.empty()) {
    log().warn(
        "{}: toolchain {} installs no {} development package (gpu_packages.{} is empty in "
        "{}); the build image must provide them",
        spec_.name, release.name, spec_.library, spec_.flavour, release.origin);
  }
  return it->second;
}

std::vector<std::string> GpuFeature::configure_args() const { return {spec_.configure_arg}; }

std::vector<std::string> GpuFeature::required_slurm_plugins() const {
  return {spec_.required_plugin};
}

}  // namespace sf
