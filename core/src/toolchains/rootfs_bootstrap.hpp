// Makes a minimal root filesystem tarball without a registry, by running what the release's family
// says (ToolchainFamily::rootfs_bootstrap: for apt families mmdebstrap, else debootstrap + tar):
// the first way whose tool is installed, its output logged. The tarball is cached under
// <cache_dir>/bootstrap/<suite>-<arch>-<hash12>.tar (hash of the recipe) and reused.
#pragma once

#include <filesystem>
#include <string>

#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {

// Identity of a recipe (tool, suite, mirror, components, packages, arch): sha256 hex.
std::string bootstrap_recipe_hash(const BootstrapRecipe& recipe, const std::string& arch);

// Returns the cached tarball, bootstrapping it first when missing. Tool output goes to
// `progress`. Throws ContainerError naming the tool, the mirror and the log on failure, the tools
// and the family's install hint when none is installed, the family when it cannot bootstrap.
std::filesystem::path bootstrap_rootfs(const ToolchainFamily& family, const BootstrapRecipe& recipe,
                                       const std::string& arch,
                                       const std::filesystem::path& cache_dir,
                                       const ProgressSink& progress);

}  // namespace sf
