// `slurm-factory run NAME`: the cells of a configured pipeline (pipeline_matrix.hpp) planned all
// first (plan_pipeline: per cell the packages to build, the packages the cache layers hold, the
// builds it shares with an earlier cell), then run (run_pipeline): each cell is a BuildRequest
// through run_build_pipeline, up to `parallel` cells at once. A package several cells need (same
// hash) is built once: the build executor takes <cache>/locks/<hash>.lock before building and
// looks in the cache again once it holds it, so a build in progress in another cell (or process)
// is awaited and its entry reused. A failed cell stops the launch of new cells unless keep_going;
// the report (summary table, JSON) says which cell failed, at which stage and why.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/pipeline_config.hpp"
#include "config/pipeline_matrix.hpp"
#include "pipeline/build_pipeline.hpp"

namespace sf {

class App;

using CellEventSink = std::function<void(const std::string& cell, const PipelineEvent&)>;

struct PipelineRunOptions {
  int parallel = 0;                // 0 = the pipeline's `parallel`
  std::optional<bool> keep_going;  // unset = the pipeline's `keep_going`
  std::optional<std::filesystem::path>
      output;                    // unset = the pipeline's, else <cache>/pipelines/NAME
  std::string backend;           // "" = the pipeline's, then the config's
  std::optional<bool> verify;    // unset = the pipeline's `verify`
  CellEventSink events;          // called under the runner's lock
  std::ostream* live = nullptr;  // build output (only used with one cell at a time)
};

struct CellPlan {
  PipelineCell cell;
  BuildRequest request;
  std::string slurm_version;  // resolved (24.11 -> 24.11.5)
  std::string image_tag;
  std::string root_hash;
  std::vector<std::string> to_build;         // source packages no cache layer holds
  std::vector<std::string> to_build_hashes;  // their package hashes, in the same order
  std::size_t cached = 0;                    // source packages a cache layer holds
  std::size_t shared = 0;  // of to_build, also built for an earlier cell (built once)
  std::string error;       // planning failed: why (the cell is not run)
  std::string error_kind;
  int exit_code = 0;
};

struct PipelinePlan {
  PipelineDefinition pipeline;
  std::vector<CellPlan> cells;
  std::size_t distinct_builds = 0;  // packages to build across all cells, each counted once
  double plan_ms = 0;
};

// Plans every cell (no network, no container): resolves versions, hashes, and asks each cache
// layer whether it holds each entry. A cell that cannot be planned carries its error.
PipelinePlan plan_pipeline(App& app, const PipelineDefinition& pipeline,
                           const std::vector<PipelineCell>& cells,
                           const PipelineRunOptions& options = {});
std::string format_plan_table(const PipelinePlan& plan);
nlohmann::json plan_to_json(const PipelinePlan& plan);

struct CellResult {
  PipelineCell cell;
  std::string result = "skipped";  // ok | failed | skipped
  bool existed = false;            // a valid artifact of the plan was there already
  std::string error;               // failed: what
  std::string error_kind;          // "build error", ...
  std::string stage;               // failed: the pipeline stage (plan, build, assemble, ...)
  nlohmann::json error_context = nlohmann::json::object();
  std::string remediation;
  int exit_code = 0;
  double seconds = 0;
  std::size_t built = 0;
  std::size_t cached = 0;
  std::size_t reused = 0;  // of cached: built by another cell/process during this run
  nlohmann::json hits = nlohmann::json::object();  // per layer
  std::filesystem::path artifact;
  std::filesystem::path log_dir;
  // Run by an executor plugin (pipeline_dispatch.hpp): the job, the scheduler's last word on it
  // ("COMPLETED", "TIMEOUT") and the job's log.
  std::string job_id;
  std::string job_state;
  std::filesystem::path job_log;
};

struct PipelineRunReport {
  std::string pipeline;
  std::string executor = "local";
  std::vector<CellResult> cells;
  int signal = 0;            // the run was stopped by this signal (jobs cancelled)
  std::string interruption;  // what was cancelled
  double seconds = 0;
  int parallel = 1;
  bool ok() const;
  // 0 when every cell succeeded, else the exit code of the first failed cell's error (128 +
  // signal when the run was interrupted).
  int exit_code() const;
  nlohmann::json to_json() const;
};

// Runs the planned cells. Never throws for a cell's failure (it is in the report); throws for
// what stops every cell (the signing key, a build image that cannot be prepared).
PipelineRunReport run_pipeline(App& app, const PipelinePlan& plan,
                               const PipelineRunOptions& options = {});
std::string format_summary_table(const PipelineRunReport& report);

// The BuildRequest of one cell: artifacts under <output root>/<cell id>/.
BuildRequest cell_request(const PipelineDefinition& pipeline, const PipelineCell& cell,
                          const std::filesystem::path& output_root, const std::string& backend,
                          bool verify);

}  // namespace sf
