// Toolchain (build) images: `prepare` makes the release's build image from its setup script on top
// of its base image, tagged slurm-factory/toolchain-<name>:<hash12>. The hash covers everything
// that defines the image (base image reference or bootstrap recipe, setup script, package lists,
// features' extra packages), so an existing tag is reused at once and never rebuilt blindly.
// When the base image cannot be pulled and the release can bootstrap offline, a minimal rootfs is
// bootstrapped from the package mirror (rootfs_bootstrap.hpp), imported as the base image, and the
// tool says so.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {

struct ToolchainImageRequest {
  ToolchainRelease release;
  std::string setup_script;                  // ToolchainFamily::setup_script(release, extra)
  std::vector<std::string> extra_packages;   // features' packages (already in the script)
  std::optional<BootstrapRecipe> bootstrap;  // ToolchainFamily::bootstrap_recipe(release)
  // The release's family: makes the bootstrap's commands (ToolchainFamily::rootfs_bootstrap).
  std::shared_ptr<const ToolchainFamily> family;
  // The config's toolchain_families.<family>.mirror: replaces the recipe's mirror when set.
  std::string mirror;
  std::filesystem::path cache_dir;  // bootstrap tarballs and build logs live here
  ProgressSink progress;            // build output, line by line (the terminal)
  bool try_pull = true;             // false: go straight to the bootstrap when the base is missing
};

struct ToolchainImage {
  std::string tag;   // slurm-factory/toolchain-<name>:<hash12>
  std::string hash;  // full sha256 of the definition
  std::string base_image;
  bool reused = false;
  bool bootstrapped_base = false;
  std::filesystem::path log_file;  // the build log (empty when reused)
  std::chrono::milliseconds elapsed{0};
};

// The canonical definition (JSON text) and its hash.
std::string toolchain_image_definition(const ToolchainImageRequest& request);
std::string toolchain_image_hash(const ToolchainImageRequest& request);
std::string toolchain_image_tag(const std::string& release_name, const std::string& hash);

// The Containerfile the image is built from.
std::string toolchain_containerfile(const std::string& base_image_ref);

// The release's base image, as the build image is made on: present in the engine, pulled, or
// bootstrapped offline from the package mirror and imported (slurm-factory/base-<suite>:<hash12>).
// Throws ContainerError when none of them works.
struct BaseImage {
  std::string reference;
  bool bootstrapped = false;
};
BaseImage ensure_base_image(ContainerBackend& backend, const ToolchainImageRequest& request);

ToolchainImage prepare_toolchain_image(ContainerBackend& backend,
                                       const ToolchainImageRequest& request);

}  // namespace sf
