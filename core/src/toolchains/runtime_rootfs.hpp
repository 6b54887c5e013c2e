// The runtime filesystem of a release, for packagers that make container images (the oci
// packager, through PackageInput::runtime_rootfs): the release's base image (the one its build
// image is made on: pulled or bootstrapped, toolchain_image.hpp) with a few OS packages added by
// the release's package manager, tagged slurm-factory/runtime-<release>:<hash12>, then flattened
// into one gzip-compressed layer (formats/rootfs_layer.hpp) kept in
// <cache>/runtime-rootfs/<hash>.layer.tar.gz with its digests. The hash covers the base image's
// id, the script and the architecture: a second call with the same inputs reuses the file (its
// digest checked again) without asking the engine to build anything.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/packager.hpp"
#include "toolchains/toolchain_image.hpp"

namespace sf {

struct RuntimeRootfsRequest {
  ToolchainImageRequest image;        // the release, its bootstrap and family, the cache folder
  std::vector<std::string> packages;  // OS package names (checked: plain names only)
  ProgressSink progress;              // image build output, line by line
};

// The RUN step: installs the packages the base image lacks (none missing: nothing runs), then
// cleans the package manager's caches. POSIX sh. Throws UsageError for a package name that is not
// plain.
std::string runtime_setup_script(const ToolchainRelease& release,
                                 const std::vector<std::string>& packages);

// Throws ContainerError (engine, naming the log file) or PackagingError (the layer file).
RootfsLayer make_runtime_rootfs(ContainerBackend& backend, const RuntimeRootfsRequest& request);

}  // namespace sf
