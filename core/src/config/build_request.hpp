// What the admin asked for: `build-slurm` options turned into a validated request. The planner
// turns it into a Plan; nothing here touches the network or a container.
#pragma once

#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/input_validation.hpp"

namespace sf {

enum class PublishPolicy { kNone, kCache, kAll };
std::string to_string(PublishPolicy p);

struct BuildRequest {
  std::string slurm_version = "25.11";  // a series (24.11) or a full version (24.11.5)
  std::string toolchain = "noble";
  std::vector<std::string> gpu;  // "cuda", "rocm", "oneapi" (sorted, unique)
  std::string arch;              // amd64 | arm64; "" = the host's (another is a cross build)
  PublishPolicy publish = PublishPolicy::kNone;
  std::string signing_key;  // a key id or fingerprint, never key material
  std::optional<std::filesystem::path> local_cache;
  bool no_cache = false;
  bool verify = false;
  std::string backend;  // "" = the config's default backend
  int jobs = 0;         // 0 = the config's build.jobs
  std::optional<std::filesystem::path> output;
  bool dry_run = false;
  // --with-dev: keep headers, static archives, libtool and pkg-config files in the view (the
  // artifact is then named ...-<arch>-dev instead of ...-<arch>-software).
  bool with_dev = false;
  // The packagers that write the outputs (--packager, a pipeline's packagers:): "tarball" first,
  // always (the main artifact that verify, publish and the index read), then "deb", ...
  std::vector<std::string> packagers{"tarball"};

  // Feature plugin names for the GPU flavours: "cuda" -> "gpu-cuda".
  std::vector<std::string> feature_names() const;
  // "slurm-24.11.5-noble-cuda-amd64-software" style name for a resolved version ("-dev" instead
  // of "-software" with --with-dev).
  std::string artifact_basename(const std::string& resolved_version) const;
  // The request as the `--json` event stream shows it.
  nlohmann::json to_json() const;
};

// Parses "--gpu" values: "" (flag without value) means cuda; "cuda,rocm" combines. Throws
// UsageError listing the valid flavours.
std::vector<std::string> parse_gpu_flavours(const std::vector<std::string>& values);

// The feature plugins' names of GPU flavours: {"cuda", "rocm"} -> {"gpu-cuda", "gpu-rocm"}.
std::vector<std::string> gpu_feature_names(const std::vector<std::string>& flavours);
// Packager names from --packager values or a pipeline's packagers: list ("deb", "deb,rpm"):
// "tarball" first, then the others in the order given, each once. Throws UsageError for a name
// that is not a plain word (what = "--packager").
std::vector<std::string> parse_packagers(const std::vector<std::string>& values,
                                         const std::string& what);
// "none" | "cache" | "all"; throws UsageError listing them.
PublishPolicy parse_publish_policy(const std::string& value);
// A Slurm series "24.11" or version "24.11.5" (syntax only; whether it is known is the recipes'
// business). Throws UsageError with examples.
std::string check_slurm_version_syntax(const std::string& value);

}  // namespace sf
