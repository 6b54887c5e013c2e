// The last stage of a build: from an assembled view to a signed artifact. Renders the modulefiles
// and data/slurm_assets/ into the staging tree, scans the view for compiled-in build-prefix paths
// (listing the text files slurm_install.sh --prefix must rewrite in data/slurm_assets/
// prefix-files.txt), hands the tree to the packager, then writes <artifact>.asc (the artifact's
// own detached signature), <basename>.provenance.json, SHA256SUMS and SHA256SUMS.asc beside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "artifact/artifact_assets.hpp"
#include "artifact/compiled_paths.hpp"

namespace sf {

class GpgSigner;
class Packager;
class TemplateRenderer;

struct ArtifactPackagingRequest {
  ArtifactInfo info;
  std::filesystem::path staging;  // holds view/ (assembled); modules/ and data/ are added
  std::filesystem::path output_dir;
  // Sonames of the toolchain release's system libraries, recorded in provenance.json so that
  // `verify --deep` needs no plugin to know them.
  std::vector<std::string> system_libraries;
  // Merged into provenance.json: "packages" (name, version, hash, source sha256, mirror),
  // "toolchain" extras (image digest), "features", "view" (the ViewAssemblyReport), ...
  nlohmann::json provenance = nlohmann::json::object();
  // Every archive entry's mtime; nullopt: $SOURCE_DATE_EPOCH when set, else 0.
  std::optional<std::int64_t> mtime;
  // Compiled-in paths the plan's recipe patches make fall back relative to the program
  // (relocation_fallbacks(plan.packages)): recorded as handled by those patches.
  RelocationFallbacks relocation_fallbacks;
  // nullptr: SHA256SUMS is written unsigned and no <artifact>.asc (a stale one is removed)
  const GpgSigner* signer = nullptr;
};

struct ArtifactPackagingResult {
  std::filesystem::path artifact;
  std::filesystem::path signature;  // <artifact>.asc; empty when unsigned
  std::filesystem::path provenance;
  std::filesystem::path checksums;
  std::vector<CompiledPath> compiled_paths;
};

// Throws PackagingError / SigningError.
ArtifactPackagingResult package_artifact(const ArtifactPackagingRequest& request,
                                         Packager& packager, const TemplateRenderer& renderer);

}  // namespace sf
