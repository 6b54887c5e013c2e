// The non-binary part of an artifact: modulefiles and data/slurm_assets/ (install script, systemd
// units, config templates, accounting SQL), rendered from templates/ for one build.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sf {

class TemplateRenderer;

// What the templates need to know about a build.
struct ArtifactInfo {
  std::string slurm_version;     // "24.11.5"
  std::string toolchain;         // release name: "bookworm"
  std::string toolchain_family;  // "debian"
  std::string os_name;           // "Debian GNU/Linux 12 (bookworm)"
  std::string arch = "amd64";
  std::vector<std::string> gpu;  // GPU features without the "gpu-" prefix: "cuda", "rocm", "oneapi"
  // The folder the build's view/ lives in (the canonical prefix is <install_root>/view).
  std::string install_root = "/opt/slurm";
  std::string builder_version;  // defaults to this tool's version when empty
  bool with_dev = false;        // build-slurm --with-dev: headers etc. kept; named ...-dev
};

// The JSON the templates are rendered with (docs/artifact.md lists the keys).
nlohmann::json artifact_template_data(const ArtifactInfo& info);

// "slurm-24.11.5-trixie-cuda-amd64-software":
// slurm-<version>-<toolchain>[-<gpu>...]-<arch>-software (-dev with ArtifactInfo::with_dev).
std::string artifact_basename(const ArtifactInfo& info);

// Module file path inside the artifact without extension: "modules/slurm/24.11.5-bookworm".
std::string artifact_module_stem(const ArtifactInfo& info);

// One rendered file: its path inside the artifact, the template it came from, its mode.
struct RenderedAsset {
  std::string path;           // "data/slurm_assets/defaults/slurmd.service"
  std::string template_name;  // "systemd/slurmd.service"
  unsigned mode = 0644;
};

// The files an artifact gets from templates/ (gres.conf only for GPU builds).
std::vector<RenderedAsset> artifact_assets(const ArtifactInfo& info);

// Renders artifact_assets(info) under `root` (creating modules/ and data/). Throws PackagingError.
void render_artifact_assets(const ArtifactInfo& info, const std::filesystem::path& root,
                            const TemplateRenderer& renderer);

}  // namespace sf
