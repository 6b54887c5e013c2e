// Where build-slurm puts the artifact of a plan, what its view keeps besides the entries, and
// whether the artifact already there is still the one this plan makes (so the run can end right
// after planning).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "recipes/planner.hpp"
#include "signing/gpg_verifier.hpp"

namespace sf {

// Where build-slurm writes the artifact of `plan`: <output or <cache>/builds>/<toolchain>/
// <version>/<arch>.
std::filesystem::path artifact_output_dir(const std::filesystem::path& output_root,
                                          const Plan& plan);

// What the view of `plan`'s artifact keeps besides the entries: {"with_dev": ..,
// "public_programs": {package: globs}} (provenance.json plan.view_policy).
nlohmann::json artifact_view_policy(const Plan& plan, bool with_dev);

// The artifact `basename`.tar.{zst,gz,xz} in `dir` when it is valid for the plan whose root hash
// is `root_hash`: its provenance.json names that hash, `view_policy` (artifact_view_policy) and
// this builder version, and SHA256SUMS is
// signed by a trusted key and matches the artifact and the provenance. nullopt otherwise (the
// reason is logged at debug).
std::optional<std::filesystem::path> find_valid_artifact(const std::filesystem::path& dir,
                                                         const std::string& basename,
                                                         const std::string& root_hash,
                                                         const GpgTrust& trust,
                                                         const nlohmann::json& view_policy);

}  // namespace sf
