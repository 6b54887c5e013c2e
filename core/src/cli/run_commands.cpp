// `slurm-factory run NAME`: a configured pipeline (docs/pipelines.md).
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "app/app.hpp"
#include "cli/command_groups.hpp"
#include "config/pipeline_config.hpp"
#include "config/pipeline_matrix.hpp"
#include "pipeline/pipeline_dispatch.hpp"
#include "pipeline/pipeline_emit.hpp"
#include "pipeline/pipeline_runner.hpp"
#include "slurm_factory/errors.hpp"
#include "support/input_validation.hpp"

namespace po = boost::program_options;

namespace sf::cli {
namespace {

const CommandSpec kSpec{
    "slurm-factory run NAME [options]",
    "Runs the pipeline NAME from the config's 'pipelines:' section: expands its matrix (Slurm\n"
    "versions x toolchains x GPU feature sets, minus 'exclude' entries) into cells, plans them "
    "all\n"
    "and prints one table (cell, packages to build, packages cached, estimated work), then builds\n"
    "each cell as build-slurm would, up to --parallel cells at once. A package several cells need\n"
    "(same hash) is built once and reused by the others, even by a cell running at the same time.\n"
    "At the end: a summary table (cell, result, time, cache hits, artifact) and, with --report, a\n"
    "JSON report. The exit code is non-zero when any cell failed. For CI, --emit prints the cells\n"
    "as a GitHub Actions or GitLab CI matrix, and --cell ID runs one cell of the plan.\n"
    "On a Slurm cluster, '--executor slurm' (or the pipeline's 'executor:') submits one job per\n"
    "cell ('sf-NAME-CELL', running 'slurm-factory run NAME --cell CELL' with the same config\n"
    "files); a cell needing a package an earlier cell builds waits for that job (afterok). The\n"
    "jobs are followed to the end (Ctrl-C cancels them all), every artifact is verified here, and\n"
    "the summary, report and exit code are those of a local run (docs/pipelines.md).\n"
    "Artifacts go to <output>/<cell>/<toolchain>/<version>/<arch>/ (--output, else the pipeline's\n"
    "'output', else <cache>/pipelines/NAME).",
    "  slurm-factory run nightly --dry-run\n"
    "  slurm-factory run nightly --parallel 2 --keep-going --report nightly.json\n"
    "  slurm-factory run nightly --only toolchain=noble --only gpu=cuda\n"
    "  slurm-factory run nightly --emit github-matrix\n"
    "  slurm-factory run nightly --emit gitlab\n"
    "  slurm-factory run nightly --executor slurm --keep-going --report nightly.json\n"
    "  slurm-factory run nightly --cell 24.11-noble-cuda --json\n"};

std::string configured(const std::vector<PipelineDefinition>& pipelines) {
  std::string list;
  for (const auto& p : pipelines) list += (list.empty() ? "" : ", ") + p.name;
  return list.empty() ? std::string("(none)") : list;
}

// The command of a cell's job up to `run`: slurm-factory on the build nodes (the executor's
// `command`, else this binary) and this run's config files (absolute) and profile.
std::vector<std::string> cell_command(const GlobalOptions& global, const PipelineExecutor& executor,
                                      const PipelineDefinition& pipeline) {
  std::vector<std::string> argv;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (executor.command.empty() && (ec || self.empty())) {
    throw UsageError("cannot find this slurm-factory's own path for the jobs (/proc/self/exe: " +
                         ec.message() + ")",
                     {}, "set command: /path/to/slurm-factory in the pipeline's executor");
  }
  argv.push_back(!executor.command.empty() ? executor.command : self.string());
  for (const auto& f : global.config_files) {
    argv.push_back("--config");
    argv.push_back(std::filesystem::absolute(f, ec).lexically_normal().string());
  }
  const std::string profile = !global.profile.empty() ? global.profile : pipeline.profile;
  if (!profile.empty()) argv.insert(argv.end(), {"--profile", profile});
  return argv;
}

nlohmann::json event_json(const std::string& cell, const PipelineEvent& e) {
  nlohmann::json j = to_json(e);
  j["cell"] = cell;
  return j;
}

int run_pipeline_command(Invocation& inv) {
  po::options_description opts("Options");
  opts.add_options()("name", po::value<std::string>(), "the pipeline to run (see the config)")(
      "dry-run", "print the plan of every cell and stop")(
      "parallel", po::value<int>(), "cells built at once (default: the pipeline's 'parallel', 1)")(
      "keep-going", "when a cell fails, finish the other cells (default: the pipeline's)")(
      "only", po::value<std::vector<std::string>>()->composing(),
      "keep the cells matching KEY=VALUE (slurm_version, toolchain, gpu, arch); repeatable")(
      "cell", po::value<std::string>(), "run exactly this cell (an id from --dry-run or --emit)")(
      "emit", po::value<std::string>(),
      "print the cells as a CI matrix and stop: github-matrix (JSON) | gitlab (YAML)")(
      "report", po::value<std::string>(), "write the JSON run report to FILE")(
      "output", po::value<std::string>(), "artifacts root (default <cache>/pipelines/NAME)")(
      "backend", po::value<std::string>(), "container engine for every cell (docker | podman)")(
      "verify", "run 'verify --deep' on each artifact")(
      "executor", po::value<std::string>(),
      "where the cells run: local (this process, the default) | slurm (one Slurm job per cell) "
      "| another executor plugin; default: the pipeline's 'executor'");
  po::positional_options_description pos;
  pos.add("name", 1);
  auto vm = parse_command(inv, kSpec, opts, pos);
  if (!vm) return 0;

  auto app = std::make_unique<App>(inv.global);
  auto pipelines = parse_pipelines(app->config());
  if (vm->count("name") == 0U) {
    throw UsageError("which pipeline? 'run' needs a NAME", {{"configured", configured(pipelines)}},
                     "run 'slurm-factory run NAME' with one of the configured pipelines");
  }
  const std::string name =
      check_input(InputKind::kName, (*vm)["name"].as<std::string>(), "pipeline NAME");
  PipelineDefinition pipeline = find_pipeline(pipelines, name);

  // The pipeline's profile selects its cache layers (and anything else a profile sets), unless
  // --profile chose one on the command line.
  if (!pipeline.profile.empty() && inv.global.profile.empty()) {
    GlobalOptions global = inv.global;
    global.profile = pipeline.profile;
    app = std::make_unique<App>(global);
    pipeline = find_pipeline(parse_pipelines(app->config()), name);
  }

  std::vector<PipelineCell> cells = expand_matrix(pipeline);
  std::vector<CellFilter> filters;
  if (vm->count("only") != 0U) {
    for (const auto& f : (*vm)["only"].as<std::vector<std::string>>()) {
      filters.push_back(parse_cell_filter(f));
    }
  }
  cells = filter_cells(cells, filters);
  if (vm->count("cell") != 0U) {
    cells = {find_cell(cells, (*vm)["cell"].as<std::string>())};
  }
  if (cells.empty()) {
    throw UsageError(
        "no cell of pipeline '" + name + "' matches the --only filters", {{"pipeline", name}},
        "run 'slurm-factory run " + name + " --dry-run' to see the cells, then filter again");
  }
  if (vm->count("emit") != 0U) {
    inv.out << emit_cells((*vm)["emit"].as<std::string>(), cells);
    return 0;
  }

  PipelineRunOptions ro;
  if (vm->count("parallel") != 0U) {
    ro.parallel = (*vm)["parallel"].as<int>();
    if (ro.parallel < 1) {
      throw UsageError("invalid --parallel value " + std::to_string(ro.parallel), {},
                       "give the number of cells to build at once, e.g. --parallel 2");
    }
  }
  if (vm->count("keep-going") != 0U) ro.keep_going = true;
  if (vm->count("output") != 0U) ro.output = (*vm)["output"].as<std::string>();
  if (vm->count("backend") != 0U) ro.backend = (*vm)["backend"].as<std::string>();
  if (vm->count("verify") != 0U) ro.verify = true;

  PipelineExecutor executor = pipeline.executor;
  if (vm->count("executor") != 0U) {
    const std::string type =
        check_input(InputKind::kName, (*vm)["executor"].as<std::string>(), "--executor");
    if (type != executor.type) {
      executor = PipelineExecutor{};
      executor.type = type;
      executor.key_path = "--executor";
    }
  }
  // The executor plugin, loaded and its settings checked before anything is planned.
  std::unique_ptr<Executor> engine;
  if (executor.type != kLocalExecutor) engine = app->executor(executor);
  const PipelinePlan plan = plan_pipeline(*app, pipeline, cells, ro);
  const bool dispatched = executor.type != kLocalExecutor;
  if (inv.global.json) {
    nlohmann::json plan_json = plan_to_json(plan);
    if (dispatched) plan_json["jobs"] = job_order_json(plan, executor);
    inv.out << nlohmann::json{{"event", "pipeline"}, {"kind", "plan"}, {"plan", plan_json}}.dump()
            << "\n"
            << std::flush;
  } else if (!inv.global.quiet || vm->count("dry-run") != 0U) {
    inv.out << format_plan_table(plan);
    if (dispatched) inv.out << format_job_order(plan, executor);
    inv.out << std::flush;
  }
  if (vm->count("dry-run") != 0U) {
    if (!inv.global.json) inv.out << "(dry run: nothing built)\n";
    return 0;
  }

  const bool progress = !inv.global.json && !inv.global.quiet;
  ro.events = [&](const std::string& cell, const PipelineEvent& e) {
    if (inv.global.json) {
      inv.out << event_json(cell, e).dump() << "\n" << std::flush;
      return;
    }
    if (!progress) return;
    const auto secs = e.elapsed.count() / 1000;
    std::string counter =
        e.package ? fmt::format(" {}/{}", e.package->index, e.package->total) : std::string();
    inv.err << fmt::format("[{:02}:{:02}] {:<22} {:<8}{} {}\n", secs / 60, secs % 60, cell, e.stage,
                           counter, e.message)
            << std::flush;
  };
  ro.live = inv.global.verbosity > 0 && progress ? &inv.err : nullptr;
  PipelineRunReport report;
  if (!dispatched) {
    report = run_pipeline(*app, plan, ro);
  } else {
    DispatchOptions dispatch;
    dispatch.executor = executor;
    dispatch.command = cell_command(inv.global, executor, pipeline);
    if (progress && ::isatty(STDERR_FILENO) != 0) {
      dispatch.table = &inv.err;
      ro.events = nullptr;  // the table says it all, redrawn in place
    }
    report = dispatch_pipeline(*app, plan, ro, *engine, dispatch);
  }
  const nlohmann::json report_json = report.to_json();
  if (vm->count("report") != 0U) {
    const std::string file = (*vm)["report"].as<std::string>();
    std::ofstream out(file, std::ios::trunc);
    out << report_json.dump(2) << "\n";
    if (!out) {
      throw UsageError("cannot write the report to " + file, {{"file", file}},
                       "give --report a path in a writable folder");
    }
  }
  if (inv.global.json) {
    inv.out << nlohmann::json{{"event", "summary"}, {"report", report_json}}.dump() << "\n";
  } else if (!inv.global.quiet || !report.ok()) {
    inv.out << format_summary_table(report);
  }
  if (report.signal != 0 && !inv.global.json) inv.err << report.interruption << "\n";
  if (!report.ok() && !inv.global.json) {
    for (const auto& c : report.cells) {
      if (c.result != "failed") continue;
      inv.err << "cell " << c.cell.id << " failed (" << c.error_kind << ", stage " << c.stage
              << "): " << c.error << "\n";
      for (const auto& [k, v] : c.error_context.items()) {
        inv.err << "  " << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
      }
      if (!c.remediation.empty()) inv.err << "  hint: " << c.remediation << "\n";
    }
  }
  return report.exit_code();
}

}  // namespace

void add_run_commands(CommandTable& table) {
  table.add({{"run"}, "run a configured pipeline (a build matrix)", run_pipeline_command});
}

}  // namespace sf::cli
