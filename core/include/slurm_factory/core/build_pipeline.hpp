// What `build-slurm` runs: plan -> fetch sources -> prepare the toolchain image (with the plan's
// system -dev packages and the features' packages) -> build or fetch every package through the
// cache chain (build_executor.hpp) -> assemble the view and package it. Each step reports a
// PipelineEvent (the CLI turns them into one progress display on a terminal, or one JSON object
// per step with --json).
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "slurm_factory/core/build_executor.hpp"
#include "slurm_factory/core/build_request.hpp"
#include "slurm_factory/core/planner.hpp"

namespace sf {

class App;

struct PipelineEvent {
  std::string stage;  // plan, fetch, image, build, assemble
  std::string kind;   // "start", "done", or a package event's kind (start, built, cached)
  std::string message;
  std::chrono::milliseconds elapsed{0};  // since the pipeline started
  std::optional<BuildEvent> package;     // stage "build": the package step
  nlohmann::json data = nlohmann::json::object();
};
using PipelineEventSink = std::function<void(const PipelineEvent&)>;

struct PlannedBuild {
  Plan plan;
  std::string image_tag;  // the toolchain image the plan's hashes name
  double plan_ms = 0;
};

struct PipelineResult {
  PlannedBuild planned;
  std::string image;
  BuildReport report;
};

// Resolves the request against the loaded plugins and the recipes: the toolchain (UsageError
// listing the valid ones), the features, the image definition hash and the plan. No network, no
// container.
PlannedBuild plan_build(App& app, const BuildRequest& request);

// Runs the whole pipeline. Throws the stage's error; the assembly stage throws
// NotImplementedError naming 'assemble' until view assembly and the packager exist. `live` gets
// the build output (nullptr: only the logs).
PipelineResult run_build_pipeline(App& app, const BuildRequest& request,
                                  const PipelineEventSink& events, std::ostream* live = nullptr);

}  // namespace sf
