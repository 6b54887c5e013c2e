// The Slurm artifacts published to a cache layer (`build-slurm --publish`): under
// <toolchain>/<version>/<arch>/ the artifact, its optional <artifact>.asc, SHA256SUMS,
// SHA256SUMS.asc and <artifact stem>.provenance.json. Found from the layer's listing; each
// provenance.json (small) is read for version, toolchain, GPU, arch and date, the directory's
// SHA256SUMS for the sha256. The artifact itself is not downloaded, and nothing is verified here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/expected.hpp"

namespace sf {

struct PublishedArtifact {
  std::string directory;       // "trixie/24.11.5/amd64"
  std::string artifact_key;    // "trixie/24.11.5/amd64/slurm-24.11.5-trixie-amd64-software.tar.zst"
  std::string provenance_key;  // "<directory>/<stem>.provenance.json"
  std::string signature_key;   // "<artifact_key>.asc" when stored, else ""
  std::string checksums_key;   // "<directory>/SHA256SUMS" when stored, else ""
  std::string checksums_signature_key;  // "<directory>/SHA256SUMS.asc" when stored, else ""
  std::string file;                     // the artifact's file name
  std::string slurm_version;
  std::string toolchain;         // "trixie"
  std::string os_name;           // "Debian GNU/Linux 13 (trixie)" ("" when unknown)
  std::string arch;              // "amd64"
  std::vector<std::string> gpu;  // "cuda", "rocm" (empty: CPU only)
  std::string created;           // UTC, "2026-11-29T09:51:45Z"
  std::string signing_key;       // fingerprint from the provenance ("" when unsigned)
  std::uint64_t size = 0;
  std::string sha256;  // from SHA256SUMS ("" when it does not list the artifact)
};

struct PublishedArtifactScan {
  std::vector<PublishedArtifact> artifacts;  // newest Slurm version first
  std::vector<std::string> warnings;  // what was skipped and why, one line each, naming the key
};

// Fills the fields a provenance.json gives (version, toolchain, os_name, arch, gpu, created,
// signing_key, file). `provenance_key` names it in the thrown VerificationError when it lacks the
// Slurm version or the toolchain.
PublishedArtifact published_artifact_from_provenance(const nlohmann::json& provenance,
                                                     const std::string& provenance_key);

// Orders by Slurm version (numeric parts, newest first), then toolchain, GPU set and arch.
void sort_published_artifacts(std::vector<PublishedArtifact>& artifacts);

// Lists `layer`, downloads each provenance.json and SHA256SUMS into `scratch` (which must exist)
// and returns the artifacts. A listing failure is the returned Failure; an unreadable provenance or
// SHA256SUMS, or an artifact missing beside its provenance, is a warning.
Expected<PublishedArtifactScan> find_published_artifacts(CacheProvider& layer,
                                                         const std::filesystem::path& scratch);

}  // namespace sf
