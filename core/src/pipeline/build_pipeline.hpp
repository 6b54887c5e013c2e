// What `build-slurm` runs: plan -> fetch sources -> prepare the toolchain image (with the plan's
// system -dev packages and the features' packages) -> build or fetch every package through the
// cache chain (build_executor.hpp) -> assemble the view (runtime entries, plus the runtime
// libraries of `from: system` dependencies copied out of the build image) -> check the features'
// Slurm plugins -> package, sign (artifact_packaging.hpp) -> optionally verify --deep. The artifact
// goes to <output>/<toolchain>/<version>/<arch>/; when a valid, signed artifact of the same plan
// (provenance.json plan.root_hash) is already there, the pipeline says so and returns right after
// planning. Each step reports a PipelineEvent (the CLI turns them into one progress display on a
// terminal, or one JSON object per step with --json).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "artifact/artifact_location.hpp"  // artifact_output_dir, find_valid_artifact
#include "artifact/artifact_publisher.hpp"
#include "artifact/artifact_verifier.hpp"
#include "build/build_executor.hpp"
#include "config/build_request.hpp"
#include "recipes/planner.hpp"

namespace sf {

class App;

struct PipelineEvent {
  std::string stage;  // plan, fetch, image, build, assemble, package, verify, artifact, publish
  std::string kind;   // "start", "done", or a package event's kind (start, built, cached)
  std::string message;
  std::chrono::milliseconds elapsed{0};  // since the pipeline started
  std::optional<BuildEvent> package;     // stage "build": the package step
  nlohmann::json data = nlohmann::json::object();
};
using PipelineEventSink = std::function<void(const PipelineEvent&)>;
// One event as the JSON object --json prints: event (the stage), kind, message, elapsed_ms, data,
// and package {name, version, hash12, index, total, elapsed_ms, detail} for a package step.
nlohmann::json to_json(const PipelineEvent& e);

// An event of `stage` stamped with the time elapsed since `started`.
PipelineEvent make_pipeline_event(std::string stage, std::string kind, std::string message,
                                  std::chrono::steady_clock::time_point started,
                                  nlohmann::json data = nlohmann::json::object());

struct PlannedBuild {
  Plan plan;
  std::string image_tag;  // the toolchain image the plan's hashes name
  double plan_ms = 0;
};

struct PipelineResult {
  PlannedBuild planned;
  std::string image;
  BuildReport report;
  std::filesystem::path artifact;  // the artifact written (or found)
  std::filesystem::path provenance;
  std::filesystem::path checksums;
  bool existed = false;                  // a valid signed artifact of this plan was there already
  std::optional<VerifyReport> verify;    // --verify: the deep check
  std::optional<PublishReport> publish;  // --publish: what went where
};

// Resolves the request against the loaded plugins and the recipes: the toolchain (UsageError
// listing the valid ones), the features, the image definition hash and the plan. No network, no
// container.
PlannedBuild plan_build(App& app, const BuildRequest& request);

// Runs the whole pipeline. Throws the stage's error (PackagingError for a view that needs a
// library nothing provides, BuildError for a feature's missing Slurm plugin, VerificationError when
// --verify finds problems; UsageError for --publish without a writable remote layer, before any
// work; CacheError when a layer refused what --publish sent, after the artifact is written).
// --publish also runs when the artifact existed already (artifact_publisher.hpp). `live` gets the
// build output (nullptr: only the logs).
PipelineResult run_build_pipeline(App& app, const BuildRequest& request,
                                  const PipelineEventSink& events, std::ostream* live = nullptr);

}  // namespace sf
