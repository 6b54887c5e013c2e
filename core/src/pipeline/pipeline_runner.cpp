#include "pipeline/pipeline_runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "app/app.hpp"
#include "cache/cache_chain.hpp"
#include "cache/cache_chain_factory.hpp"
#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/strings.hpp"
#include "support/text_table.hpp"
#include "toolchains/toolchain_image.hpp"
#include "toolchains/toolchain_resolution.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

using Clock = std::chrono::steady_clock;

fs::path output_root(App& app, const PipelineDefinition& p, const PipelineRunOptions& o) {
  if (o.output) return *o.output;
  if (p.output) return *p.output;
  return app.config().cache_dir / "pipelines" / p.name;
}

std::string backend_for(const PipelineDefinition& p, const PipelineRunOptions& o) {
  return o.backend.empty() ? p.backend : o.backend;
}

bool verify_for(const PipelineDefinition& p, const PipelineRunOptions& o) {
  return o.verify.value_or(p.verify);
}

nlohmann::json context_json(const ErrorContext& context) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : context) j[k] = v;
  return j;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string seconds_text(double s) {
  if (s < 60) return fmt::format("{:.1f}s", s);
  const auto total = static_cast<long long>(s);
  return fmt::format("{}m{:02}s", total / 60, total % 60);
}

}  // namespace

BuildRequest cell_request(const PipelineDefinition& pipeline, const PipelineCell& cell,
                          const fs::path& root, const std::string& backend, bool verify) {
  BuildRequest r;
  r.slurm_version = cell.slurm_version;
  r.toolchain = cell.toolchain;
  r.gpu = cell.gpu;
  r.arch = cell.arch;
  r.packagers = pipeline.packagers;
  r.publish = pipeline.publish;
  r.backend = backend;
  r.verify = verify;
  r.output = root / cell.id;
  return r;
}

PipelinePlan plan_pipeline(App& app, const PipelineDefinition& pipeline,
                           const std::vector<PipelineCell>& cells,
                           const PipelineRunOptions& options) {
  const auto started = Clock::now();
  PipelinePlan out;
  out.pipeline = pipeline;
  const fs::path root = output_root(app, pipeline, options);
  // The layers, to ask whether they hold each entry (read-only: no signing key is opened).
  CacheChainRequest cr;
  cr.want_signer = false;
  CacheChainSetup cache = make_cache_chain(app, cr);
  std::set<std::string> claimed;  // hashes an earlier cell builds
  std::map<std::string, bool> held;
  for (const auto& cell : cells) {
    CellPlan cp;
    cp.cell = cell;
    cp.request = cell_request(pipeline, cell, root, backend_for(pipeline, options),
                              verify_for(pipeline, options));
    try {
      const PlannedBuild planned = plan_build(app, cp.request);
      cp.slurm_version = planned.plan.slurm_version;
      cp.image_tag = planned.image_tag;
      cp.root_hash = planned.plan.root().hash;
      for (const auto& p : planned.plan.packages) {
        if (p.origin != Origin::kSource) continue;
        auto it = held.find(p.hash);
        if (it == held.end()) {
          bool in_cache = false;
          for (CacheProvider* layer : cache.chain->layers()) {
            auto has = layer->has(entry_key_for(p).manifest());
            if (has && *has) {
              in_cache = true;
              break;
            }
          }
          it = held.emplace(p.hash, in_cache).first;
        }
        if (it->second) {
          ++cp.cached;
          continue;
        }
        cp.to_build.push_back(p.name);
        cp.to_build_hashes.push_back(p.hash);
        if (!claimed.insert(p.hash).second) ++cp.shared;
      }
    } catch (const SlurmFactoryError& e) {
      cp.error = e.what();
      cp.error_kind = e.kind();
      cp.exit_code = static_cast<int>(e.exit_code());
      const std::string config_key =
          "pipelines." + pipeline.name + ".matrix";  // where the cell comes from
      cp.error += " (cell from " + app.config().origin_of(config_key) + ")";
    }
    out.cells.push_back(std::move(cp));
  }
  out.distinct_builds = claimed.size();
  out.plan_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  return out;
}

std::string format_plan_table(const PipelinePlan& plan) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : plan.cells) {
    if (!c.error.empty()) {
      rows.push_back({c.cell.id, "-", "-", "-", "-", "cannot plan: " + first_line(c.error)});
      continue;
    }
    const std::size_t fresh = c.to_build.size() - c.shared;
    std::string work = fresh == 0 ? std::string("assemble only")
                                  : std::to_string(fresh) + " new build" + (fresh == 1 ? "" : "s");
    if (c.shared > 0) work += ", " + std::to_string(c.shared) + " shared with an earlier cell";
    std::string names = join(c.to_build, " ");
    rows.push_back({c.cell.id, c.slurm_version, std::to_string(c.to_build.size()),
                    std::to_string(c.cached), work, names.empty() ? "-" : names});
  }
  std::string out;
  for (const auto& line : cli::format_table(
           {"CELL", "SLURM", "TO BUILD", "CACHED", "ESTIMATED WORK", "PACKAGES TO BUILD"}, rows)) {
    out += line + "\n";
  }
  out += fmt::format(
      "pipeline {}: {} cell(s), {} distinct package build(s) (each built once), planned in "
      "{:.0f} ms\n",
      plan.pipeline.name, plan.cells.size(), plan.distinct_builds, plan.plan_ms);
  return out;
}

nlohmann::json plan_to_json(const PipelinePlan& plan) {
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& c : plan.cells) {
    nlohmann::json j{{"cell", c.cell.id},
                     {"slurm_version", c.cell.slurm_version},
                     {"toolchain", c.cell.toolchain},
                     {"gpu", gpu_label(c.cell.gpu)},
                     {"arch", c.cell.arch}};
    if (!c.error.empty()) {
      j["error"] = c.error;
    } else {
      j["resolved_version"] = c.slurm_version;
      j["root_hash"] = c.root_hash;
      j["image"] = c.image_tag;
      j["to_build"] = c.to_build;
      j["cached"] = c.cached;
      j["shared"] = c.shared;
      j["output"] = c.request.output ? c.request.output->string() : std::string();
    }
    cells.push_back(std::move(j));
  }
  return {{"pipeline", plan.pipeline.name},
          {"cells", cells},
          {"distinct_builds", plan.distinct_builds},
          {"plan_ms", plan.plan_ms}};
}

bool PipelineRunReport::ok() const {
  return std::all_of(cells.begin(), cells.end(),
                     [](const CellResult& c) { return c.result == "ok"; });
}

int PipelineRunReport::exit_code() const {
  if (signal != 0) return 128 + signal;
  for (const auto& c : cells) {
    if (c.result == "failed") return c.exit_code != 0 ? c.exit_code : 1;
  }
  return ok() ? 0 : 1;
}

nlohmann::json PipelineRunReport::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  std::size_t failed = 0;
  std::size_t succeeded = 0;
  for (const auto& c : cells) {
    nlohmann::json j{{"cell", c.cell.id},
                     {"slurm_version", c.cell.slurm_version},
                     {"toolchain", c.cell.toolchain},
                     {"gpu", gpu_label(c.cell.gpu)},
                     {"arch", c.cell.arch},
                     {"result", c.result},
                     {"seconds", c.seconds},
                     {"built", c.built},
                     {"cached", c.cached},
                     {"reused_from_other_cells", c.reused},
                     {"hits", c.hits},
                     {"existed", c.existed}};
    if (!c.artifact.empty()) j["artifact"] = c.artifact.string();
    if (!c.log_dir.empty()) j["logs"] = c.log_dir.string();
    if (!c.job_id.empty()) {
      j["job"] = {{"id", c.job_id}, {"state", c.job_state}, {"log", c.job_log.string()}};
    }
    if (c.result == "failed") {
      ++failed;
      j["error"] = {{"kind", c.error_kind},         {"stage", c.stage},
                    {"message", c.error},           {"context", c.error_context},
                    {"remediation", c.remediation}, {"exit_code", c.exit_code}};
    }
    if (c.result == "ok") ++succeeded;
    list.push_back(std::move(j));
  }
  return {{"pipeline", pipeline},
          {"executor", executor},
          {"interrupted", interruption},
          {"ok", ok()},
          {"exit_code", exit_code()},
          {"seconds", seconds},
          {"parallel", parallel},
          {"succeeded", succeeded},
          {"failed", failed},
          {"skipped", cells.size() - succeeded - failed},
          {"cells", list}};
}

PipelineRunReport run_pipeline(App& app, const PipelinePlan& plan,
                               const PipelineRunOptions& options) {
  const auto started = Clock::now();
  const PipelineDefinition& pipeline = plan.pipeline;
  PipelineRunReport report;
  report.pipeline = pipeline.name;
  const bool keep_going = options.keep_going.value_or(pipeline.keep_going);
  const int parallel = std::max(1, options.parallel > 0 ? options.parallel : pipeline.parallel);
  report.parallel = parallel;
  report.cells.resize(plan.cells.size());
  std::mutex lock;
  auto emit = [&](const std::string& cell, PipelineEvent e) {
    if (!options.events) return;
    std::lock_guard g(lock);
    options.events(cell, e);
  };
  auto note = [&](const std::string& cell, const std::string& stage, const std::string& kind,
                  const std::string& message, nlohmann::json data = nlohmann::json::object()) {
    emit(cell, make_pipeline_event(stage, kind, message, started, std::move(data)));
  };

  bool stop = false;  // a cell failed and keep_going is off
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    report.cells[i].cell = plan.cells[i].cell;
    if (!plan.cells[i].error.empty()) {
      CellResult& r = report.cells[i];
      r.result = "failed";
      r.stage = "plan";
      r.error = plan.cells[i].error;
      r.error_kind = plan.cells[i].error_kind;
      r.exit_code = plan.cells[i].exit_code;
      stop = stop || !keep_going;
    }
  }

  // Everything the cells would otherwise set up at the same time, once, in this thread: plugins
  // (the packager, cache providers), the signing key (made on first use when none is configured),
  // and each build image (two cells must not build the same image at once).
  std::vector<std::size_t> runnable;
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    if (plan.cells[i].error.empty() && !stop) runnable.push_back(i);
  }
  if (!runnable.empty()) {
    // Plugins load before the cells' threads start.
    for (const auto& name : pipeline.packagers) (void)app.packager(name);
    { CacheChainSetup warm = make_cache_chain(app, CacheChainRequest{}); }
    if (parallel > 1 && runnable.size() > 1) {
      std::set<std::string> prepared;
      for (std::size_t i : runnable) {
        const CellPlan& c = plan.cells[i];
        if (!prepared.insert(c.image_tag).second) continue;
        const std::string backend =
            c.request.backend.empty() ? app.config().default_backend : c.request.backend;
        note(c.cell.id, "image", "start", "preparing the build image " + c.image_tag);
        ResolvedToolchain resolved =
            resolve_toolchain(app, c.request.toolchain, c.request.feature_names(), c.request.arch);
        auto engine = app.container_backend(backend);
        auto image = prepare_toolchain_image(*engine, resolved.image);
        note(c.cell.id, "image", "done", (image.reused ? "reused " : "built ") + image.tag,
             {{"image", image.tag}, {"reused", image.reused}});
      }
    }
  }

  std::atomic<std::size_t> next{0};
  std::ostream* live = parallel == 1 ? options.live : nullptr;
  auto worker = [&] {
    for (;;) {
      const std::size_t k = next++;
      if (k >= runnable.size()) return;
      const std::size_t i = runnable[k];
      const CellPlan& c = plan.cells[i];
      CellResult& r = report.cells[i];
      {
        std::lock_guard g(lock);
        if (stop) continue;  // stays "skipped"
      }
      note(c.cell.id, "cell", "start", "cell " + c.cell.id + " starts",
           {{"slurm_version", c.cell.slurm_version},
            {"toolchain", c.cell.toolchain},
            {"gpu", gpu_label(c.cell.gpu)}});
      const auto t0 = Clock::now();
      std::string stage = "plan";
      try {
        PipelineResult res = run_build_pipeline(
            app, c.request,
            [&](const PipelineEvent& e) {
              stage = e.stage;
              if (e.stage == "build" && e.kind == "cached" && e.package &&
                  e.package->detail.find("another cell") != std::string::npos) {
                ++r.reused;
              }
              emit(c.cell.id, e);
            },
            live);
        r.result = "ok";
        r.existed = res.existed;
        r.artifact = res.artifact;
        r.built = res.report.built();
        r.cached = res.report.cached();
        r.log_dir = res.report.log_dir;
        for (const auto& o : res.report.packages) {
          if (o.status == PackageStatus::kCached) r.hits[o.layer] = r.hits.value(o.layer, 0) + 1;
        }
      } catch (const SlurmFactoryError& e) {
        r.result = "failed";
        r.stage = stage;
        r.error = e.what();
        r.error_kind = e.kind();
        r.error_context = context_json(e.context());
        r.remediation = e.remediation();
        r.exit_code = static_cast<int>(e.exit_code());
      } catch (const std::exception& e) {
        r.result = "failed";
        r.stage = stage;
        r.error = e.what();
        r.error_kind = "internal error";
        r.exit_code = static_cast<int>(ExitCode::kInternal);
      }
      r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      if (r.result == "failed") {
        note(c.cell.id, "cell", "failed",
             "cell " + c.cell.id + " failed at " + r.stage + ": " + first_line(r.error),
             {{"stage", r.stage}, {"error", r.error}, {"context", r.error_context}});
        std::lock_guard g(lock);
        if (!keep_going) stop = true;
      } else {
        note(c.cell.id, "cell", "done",
             "cell " + c.cell.id + " done in " + seconds_text(r.seconds) + ": " +
                 r.artifact.string(),
             {{"artifact", r.artifact.string()},
              {"built", r.built},
              {"cached", r.cached},
              {"reused", r.reused},
              {"seconds", r.seconds}});
      }
    }
  };
  std::vector<std::thread> threads;
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(parallel), runnable.size());
  for (std::size_t t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report;
}

std::string format_summary_table(const PipelineRunReport& report) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : report.cells) {
    std::string hits;
    for (const auto& [layer, n] : c.hits.items()) {
      hits += (hits.empty() ? "" : ", ") + layer + " " + std::to_string(n.get<int>());
    }
    if (c.reused > 0) hits += " (" + std::to_string(c.reused) + " from other cells)";
    std::string result = c.result;
    if (c.existed) result += " (existed)";
    std::string where = c.artifact.string();
    if (c.result == "failed") where = c.stage + ": " + first_line(c.error);
    if (c.result == "failed" && !c.job_id.empty()) {
      where += " (job " + c.job_id + " " + c.job_state + ", log " + c.job_log.string() + ")";
    }
    if (c.result == "skipped") where = "not run (an earlier cell failed; --keep-going runs it)";
    rows.push_back({c.cell.id, result, c.result == "skipped" ? "-" : seconds_text(c.seconds),
                    std::to_string(c.built), hits.empty() ? "-" : hits, where});
  }
  std::string out;
  for (const auto& line : cli::format_table(
           {"CELL", "RESULT", "TIME", "BUILT", "CACHE HITS", "ARTIFACT / ERROR"}, rows)) {
    out += line + "\n";
  }
  std::size_t ok = 0;
  std::size_t failed = 0;
  for (const auto& c : report.cells) {
    ok += c.result == "ok" ? 1U : 0U;
    failed += c.result == "failed" ? 1U : 0U;
  }
  if (report.executor == "local") {
    out += fmt::format("pipeline {}: {} ok, {} failed, {} skipped in {} ({} at once)\n",
                       report.pipeline, ok, failed, report.cells.size() - ok - failed,
                       seconds_text(report.seconds), report.parallel);
  } else {
    out += fmt::format("pipeline {}: {} ok, {} failed, {} skipped in {} ({} jobs through {})\n",
                       report.pipeline, ok, failed, report.cells.size() - ok - failed,
                       seconds_text(report.seconds), report.parallel, report.executor);
  }
  return out;
}

}  // namespace sf
