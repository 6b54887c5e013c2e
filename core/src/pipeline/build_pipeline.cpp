#include "pipeline/build_pipeline.hpp"

#include "app/app.hpp"
#include "pipeline/pipeline_run.hpp"

namespace fs = std::filesystem;

namespace sf {

PipelineEvent make_pipeline_event(std::string stage, std::string kind, std::string message,
                                  std::chrono::steady_clock::time_point started,
                                  nlohmann::json data) {
  PipelineEvent e;
  e.stage = std::move(stage);
  e.kind = std::move(kind);
  e.message = std::move(message);
  e.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  e.data = std::move(data);
  return e;
}

nlohmann::json to_json(const PipelineEvent& e) {
  nlohmann::json j{{"event", e.stage},
                   {"kind", e.kind},
                   {"message", e.message},
                   {"elapsed_ms", e.elapsed.count()}};
  if (!e.data.empty()) j["data"] = e.data;
  if (e.package) {
    j["package"] = {{"name", e.package->package},  {"version", e.package->version},
                    {"hash12", e.package->hash12}, {"index", e.package->index},
                    {"total", e.package->total},   {"elapsed_ms", e.package->elapsed.count()}};
    if (!e.package->detail.empty()) j["package"]["detail"] = e.package->detail;
  }
  return j;
}

std::unique_ptr<ContainerBackend> PipelineRun::make_backend() const {
  return app.container_backend(backend);
}

void PipelineRun::emit(const std::string& stage, const std::string& kind,
                       const std::string& message, nlohmann::json data) const {
  if (events) events(make_pipeline_event(stage, kind, message, started, std::move(data)));
}

PipelineResult run_build_pipeline(App& app, const BuildRequest& request,
                                  const PipelineEventSink& events, std::ostream* live) {
  PipelineRun run(app, request, events, live);
  stage_plan(run);
  prepare_artifact(run);
  // A valid signed artifact of this very plan ends the run now (after --verify and --publish).
  if (stage_existing_artifact(run)) {
    if (request.verify) stage_verify(run);
    stage_publish(run, nullptr);
    return std::move(run.result);
  }
  stage_fetch(run);
  stage_image(run);
  stage_build(run);
  // The run's work folder (entry copies, unpacked trees, staging) goes when the run ends, whatever
  // happens: the cache layers hold the entries, the artifact is in the output folder. It is
  // renamed aside at once and removed by a detached process (remove_aside).
  struct RemoveWork {
    fs::path dir;
    ~RemoveWork() { remove_aside(dir); }
  } remove_work{run.work};
  stage_assemble(run);
  stage_package(run);
  if (request.verify) stage_verify(run);
  stage_publish(run, &run.result.report);
  return std::move(run.result);
}

}  // namespace sf
