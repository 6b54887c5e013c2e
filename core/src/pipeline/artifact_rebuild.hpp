// `slurm-factory rebuild ARTIFACT`: rebuilds an artifact from its provenance.json and compares the
// result with it, to prove (or disprove) that the binary comes from the sources it names.
//
// 1. The provenance gives the request (Slurm version as resolved, toolchain, GPU flavours), each
//    package's hash inputs (`inputs`, package_hash.hpp) and SOURCE_DATE_EPOCH, and the toolchain
//    image's definition hash and exact package list (image_package_list.hpp).
// 2. The toolchain image is prepared (reused when its tag exists) and its package list compared
//    with the recorded one: when they differ the rebuild cannot be faithful and is refused
//    (kRebuildRefused, listing the packages that moved) unless keep_going.
// 3. The plan is made from today's recipes; packages whose inputs differ from the recorded ones
//    are reported (they will differ in the comparison).
// 4. The build-slurm pipeline runs with no binary cache: nothing is read from any layer, new
//    entries go only to a throwaway local layer and the artifact to a throwaway folder, both under
//    <cache_dir>/tmp/rebuild-*; sources come from the source cache (checked by sha256, fetched
//    when missing). The signing key and keyring are the config's, as for build-slurm.
// 5. The two artifacts are compared (artifact_diff.hpp): sha256, then file by file, with the
//    differing sections of ELF files.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "artifact/artifact_diff.hpp"
#include "config/build_request.hpp"
#include "pipeline/build_pipeline.hpp"
#include "recipes/planner.hpp"

namespace sf {

class App;

// Exit codes of `rebuild` beyond the errors' (docs/cli.md).
inline constexpr int kRebuildDiffers = 13;  // the rebuilt artifact's sha256 differs
inline constexpr int kRebuildRefused = 14;  // the toolchain image cannot be made identical

struct RebuildOptions {
  std::filesystem::path artifact;
  std::optional<std::filesystem::path> provenance;  // default: the one beside the artifact
  bool keep_going = false;  // rebuild even when the image's packages moved (then not a proof)
  std::string backend;      // "" = the config's default
  int jobs = 0;
};

struct RebuildReport {
  std::filesystem::path provenance_file;
  BuildRequest request;
  std::string recorded_image_hash;
  std::string current_image_hash;
  bool image_list_recorded = false;                  // the provenance has image_packages
  std::map<std::string, std::string> image_changes;  // package -> "old -> new"
  // Packages whose hash inputs differ from the recorded ones: name -> the differing keys.
  std::map<std::string, std::vector<std::string>> input_changes;
  bool refused = false;
  std::filesystem::path rebuilt;  // the rebuilt artifact (removed with the throwaway folder)
  std::optional<ArchiveComparison> comparison;

  bool identical() const { return !refused && comparison && comparison->same_bytes(); }
  int exit_code() const { return refused ? kRebuildRefused : identical() ? 0 : kRebuildDiffers; }
  nlohmann::json to_json() const;
};

// The build request a provenance.json describes. Throws UsageError naming the missing field.
BuildRequest rebuild_request_from_provenance(const nlohmann::json& provenance);

// Packages of `recorded` (provenance "packages", each with "inputs") whose inputs differ from the
// same package of `plan`: name -> the top-level keys that differ ("configure", "source_sha256",
// ...; "(not in the plan)" / "(not in the provenance)" for a package only one has). Packages
// recorded without inputs are skipped.
std::map<std::string, std::vector<std::string>> plan_input_changes(const nlohmann::json& recorded,
                                                                   const Plan& plan);

// Runs the whole rebuild (see above). Throws the pipeline's errors; a refusal is reported, not
// thrown.
RebuildReport rebuild_artifact(App& app, const RebuildOptions& options,
                               const PipelineEventSink& events, std::ostream* live = nullptr);

// The human report: what was checked and, when not identical, each differing file.
std::string format_rebuild_report(const RebuildReport& r);

}  // namespace sf
