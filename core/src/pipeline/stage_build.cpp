// 4. packages: each source package of the plan through the cache chain, else built
// (build_executor.hpp), with one event per package.
#include <algorithm>

#include "app/app.hpp"
#include "build/build_executor.hpp"
#include "build/source_fetcher.hpp"
#include "containers/hermetic_runner.hpp"
#include "pipeline/pipeline_run.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"

namespace sf {

namespace {

using Clock = std::chrono::steady_clock;

BuildExecutorOptions executor_options(const PipelineRun& run) {
  const Config& config = run.app.config();
  const BuildRequest& request = run.request;
  BuildExecutorOptions eo;
  eo.cache_dir = config.cache_dir;
  eo.image = run.result.image;
  eo.backend_command = run.backend;
  const int jobs = request.jobs > 0 ? request.jobs : config.build.jobs;
  // --jobs J: up to J/2 packages at once (at most 4), sharing the J make jobs.
  eo.parallel = jobs >= 4 ? std::min(4, jobs / 2) : 1;
  eo.jobs = jobs > 0 ? std::max(1, jobs / eo.parallel) : 0;
  eo.cpus = config.build.cpus;
  eo.memory_bytes = parse_byte_size(config.build.memory);
  eo.shm_bytes = parse_byte_size(config.build.shm);
  eo.pids_limit = config.build.pids;
  eo.network = config.build.network;
  eo.ccache = config.build.ccache;
  eo.ccache_max_bytes = parse_byte_size(config.build.ccache_max_size);
  eo.incremental = config.build.incremental && !request.no_cache;
  eo.signer = run.cache.signer.get();
  eo.live = run.live;
  if (const ToolchainRelease& release = run.release(); is_cross_build(release)) {
    eo.cross =
        CrossTriplets{multiarch_triplet(release.arch), multiarch_triplet(release.build_arch)};
  }
  return eo;
}

}  // namespace

void stage_build(PipelineRun& run) {
  const BuildRequest& request = run.request;
  const Plan& plan = run.plan();
  PipelineResult& result = run.result;
  const BuildExecutorOptions eo = executor_options(run);
  const std::size_t source_packages = SourceFetcher::items_for(plan).size();
  run.emit("build", "start",
           "building or fetching " + std::to_string(source_packages) + " package(s)",
           {{"packages", source_packages}, {"parallel", eo.parallel}, {"jobs", eo.jobs}});
  run.executor = std::make_unique<BuildExecutor>(
      [&app = run.app, backend = run.backend]() { return app.container_backend(backend); },
      *run.cache.chain, eo);
  BuildExecutor& executor = *run.executor;
  // A GPU build whose Slurm step fails most often lacks a feature's -dev files (configure refuses
  // --with-nvml / --with-rsmi / --with-oneapi): name the features next to the package and log.
  auto run_executor = [&](const BuildEventSink& sink) {
    try {
      return executor.run(plan, sink);
    } catch (BuildError& e) {
      const auto features = request.feature_names();
      if (!features.empty() && e.context_value("package") == "slurm") {
        std::string list = join(features, ",");
        e.with("features", list);
        std::string why = e.remediation();
        why += std::string(why.empty() ? "" : "; ") +
               "if configure cannot find a GPU library, the image lacks that feature's -dev "
               "package: check the release's gpu_packages (docs/gpu.md)";
        e.hint(why);
      }
      throw;
    }
  };
  const auto started = run.started;
  const PipelineEventSink& events = run.events;
  result.report = run_executor([&](const BuildEvent& be) {
    if (!events) return;
    PipelineEvent e;
    e.stage = "build";
    e.kind = be.kind;
    e.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    e.package = be;
    e.message = be.kind + " " + be.package + " " + be.version + " (" + be.hash12 + ")";
    events(e);
  });
  nlohmann::json layer_hits = nlohmann::json::object();
  for (const auto& o : result.report.packages) {
    if (o.status == PackageStatus::kCached) {
      layer_hits[o.layer] = layer_hits.value(o.layer, 0) + 1;
    }
  }
  run.emit("build", "done",
           std::to_string(result.report.built()) + " built, " +
               std::to_string(result.report.cached()) + " from the cache",
           {{"built", result.report.built()},
            {"cached", result.report.cached()},
            {"hits", layer_hits},
            {"build_id", result.report.build_id},
            {"logs", result.report.log_dir.string()}});
  run.work = result.report.entries_dir.parent_path();
}

}  // namespace sf
