// One place that turns (toolchain name, features) into everything that defines the build image:
// the release from the catalog, the feature plugins, the rendered setup script with the features'
// packages, the bootstrap recipe, the mirror and cache dir from the config. `plan`, `fetch`,
// `toolchain prepare` and `build-slurm` all go through it, so the image hash they compute — and so
// every package hash — is the same for the same request.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "slurm_factory/feature.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_image.hpp"

namespace sf {

class App;

struct ResolvedToolchain {
  ToolchainCatalog catalog;
  ToolchainImageRequest image;                     // release, script, packages, bootstrap
  std::vector<std::unique_ptr<Feature>> features;  // in the order requested
  std::string image_hash;                          // toolchain_image_hash(image)
  bool build_network = false;  // build.network: compile steps may reach the network (a hash input)
};

// The release `toolchain` of the catalog as a build for `arch` ("" = the host's) makes it: natively
// (arch = the host's) or as a cross build (build_arch = the host's), which the release must list
// in cross_arches; the target's dynamic loader joins its system libraries. Throws UsageError for
// an unknown toolchain or architecture, or a cross build the release cannot make.
ToolchainRelease release_for_arch(const ToolchainCatalog& catalog, const std::string& toolchain,
                                  const std::string& arch);

// `arch`: the target architecture ("" = the host's). Another architecture than the host's is a
// cross build (image.release.build_arch = the host's), which the release must list in its
// cross_arches. Throws UsageError for an unknown toolchain (listing the valid ones), an unknown
// architecture or a cross build the release cannot make, PluginError for a feature no loaded
// plugin provides, ConfigurationError for a release without the feature's packages.
ResolvedToolchain resolve_toolchain(App& app, const std::string& toolchain,
                                    const std::vector<std::string>& feature_names,
                                    const std::string& arch = "");

}  // namespace sf
