// What an artifact tree holds, as the archive writer will pack it: the number of entries, the bytes
// of its regular files, and every entry whose mode the writer resets (setuid, setgid, sticky or
// world-writable: see safe_packed_mode). package_artifact records the first two in provenance.json
// ("contents"), where `verify --deep` takes its extraction caps from, and one warning per reset
// mode ("warnings"). Walked with lstat: no symlink is followed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf {

struct ModeReset {
  std::string path;  // relative to the root, '/' separated
  std::uint32_t from = 0;
  std::uint32_t to = 0;
};

struct ArtifactContents {
  std::uint64_t entries = 0;  // files, directories and links under the root (not the root)
  std::uint64_t bytes = 0;    // sum of the regular files' sizes
  std::vector<ModeReset> mode_resets;
};

// Failure names the path that could not be read.
Expected<ArtifactContents> survey_artifact_tree(const std::filesystem::path& root);

// "view/bin/x: mode 4755 (setuid) packaged as 0755" (octal, the bits named).
std::string describe_mode_reset(const ModeReset& reset);

// {"entries": N, "bytes": B}, and back: false when `j` is not such an object.
nlohmann::json contents_json(const ArtifactContents& contents);
bool contents_from_json(const nlohmann::json& j, ArtifactContents& out);

}  // namespace sf
