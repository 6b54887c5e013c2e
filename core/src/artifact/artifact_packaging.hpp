// The last stage of a build: from an assembled view to a signed artifact. Renders the modulefiles
// and data/slurm_assets/ into the staging tree, scans the view for compiled-in build-prefix paths
// (listing the text files slurm_install.sh --prefix must rewrite in data/slurm_assets/
// prefix-files.txt), hands the tree to the packager (then to each of more_packagers), then writes
// <artifact>.asc (the artifact's own detached signature), <basename>.provenance.json, SHA256SUMS
// and SHA256SUMS.asc beside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "artifact/artifact_assets.hpp"
#include "artifact/compiled_paths.hpp"
#include "slurm_factory/packager.hpp"

namespace sf {

class GpgSigner;
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
  // Packagers run after the main one on the same staged tree (deb, ...), in order; their files
  // join SHA256SUMS and provenance.json's "outputs".
  std::vector<Packager*> more_packagers;
  // What the packagers are told beyond ArtifactInfo: the OS release, base image and the OS
  // packages holding the libraries the view needs (packager.hpp's ArtifactDescription).
  std::string os_version;
  std::string base_image;
  std::vector<SystemLibraryPackage> system_packages;
  // The release's runtime filesystem as an image layer (toolchains/runtime_rootfs.hpp), for the
  // packagers that make images; empty when no engine is at hand.
  RuntimeRootfsFn runtime_rootfs;
};

// One file a packager wrote.
struct PackagedOutput {
  std::string packager;
  std::filesystem::path file;
  std::string sha256;
};

struct ArtifactPackagingResult {
  std::filesystem::path artifact;
  std::filesystem::path signature;  // <artifact>.asc; empty when unsigned
  std::filesystem::path provenance;
  std::filesystem::path checksums;
  std::vector<CompiledPath> compiled_paths;
  std::vector<PackagedOutput> outputs;  // the other packagers' files, in order
  std::map<std::string, double> seconds;  // how long each packager took, by name
};

// Throws PackagingError / SigningError.
ArtifactPackagingResult package_artifact(const ArtifactPackagingRequest& request,
                                         Packager& packager, const TemplateRenderer& renderer);

}  // namespace sf
