// `slurm-factory run NAME --executor slurm` (or any executor plugin, executor.hpp): the cells of
// a planned pipeline (pipeline_runner.hpp) run as jobs of a scheduler instead of in this process.
//
// Each cell with a plan becomes one job running `slurm-factory run NAME --cell ID --executor
// local` with this run's config files, output root and a report file, from a script under
// <output>/jobs/. A cell that needs a package an earlier cell builds waits for that cell's job
// (after_ok), so the package is built once; with `shared_cache_dir: true` the nodes see this
// host's cache_dir and the package's build lock does the waiting instead, so every job starts at
// once. The jobs are followed until they end (a live table on a terminal, one line per change
// otherwise, JSON events with --json); each cell's result is read from its report file, and its
// artifact is verified here, against this host's trust anchor, before the cell counts as done:
// nothing is trusted because it came back from a node. A job that failed names its id, the
// scheduler's state and its log. When a job fails, the jobs waiting on it are cancelled: with
// keep_going they are submitted again without that dependency (they build the package
// themselves), else they are reported as skipped. SIGINT/SIGTERM cancels every job of the run.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "config/pipeline_executor.hpp"
#include "pipeline/pipeline_runner.hpp"
#include "slurm_factory/executor.hpp"

namespace sf {

class App;

struct DispatchOptions {
  PipelineExecutor executor;
  // The cell job's command up to (not including) the command word `run`: slurm-factory's path on
  // the build nodes and the global options of this run (absolute --config files, --profile).
  std::vector<std::string> command;
  // A terminal to redraw the table of jobs on (nullptr: events only).
  std::ostream* table = nullptr;
};

// For each cell of the plan, the indices of the earlier cells whose jobs it waits for: those that
// build a package it needs first. Empty for every cell when `shared_cache_dir` (the build lock
// orders them) and for cells that cannot be planned.
std::vector<std::vector<std::size_t>> cell_dependencies(const PipelinePlan& plan,
                                                        bool shared_cache_dir);

// For `run --dry-run` with an executor: which cell's job waits for which, and why (the packages
// it would otherwise build a second time). One line per cell; JSON: [{cell, job_name, after:
// [cell ids], waits_for: [package names]}].
std::string format_job_order(const PipelinePlan& plan, const PipelineExecutor& executor);
nlohmann::json job_order_json(const PipelinePlan& plan, const PipelineExecutor& executor);

// The /bin/sh script of a cell's job: `exec` of the quoted argv, nothing else.
std::string cell_job_script(const std::vector<std::string>& argv, const std::string& comment);

// The cell `cell` of a report file a job wrote (PipelineRunReport::to_json), checked field by
// field: a report that is not JSON, names another cell or has fields of the wrong type gives a
// failed result saying so. An artifact path outside `cell_output` is refused (a node does not get
// to point at a file of its choosing).
CellResult cell_result_from_report(const std::string& report_text, const PipelineCell& cell,
                                   const std::filesystem::path& cell_output);

// Runs the planned cells through `executor`. Never throws for a cell's failure (it is in the
// report); throws when a job cannot be submitted. On SIGINT/SIGTERM every job of the run is
// cancelled and the report says so (signal, interruption: its exit code is 128 + signal).
PipelineRunReport dispatch_pipeline(App& app, const PipelinePlan& plan,
                                    const PipelineRunOptions& options, Executor& executor,
                                    const DispatchOptions& dispatch);

}  // namespace sf
