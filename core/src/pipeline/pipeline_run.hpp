// One run of build-slurm's pipeline (build_pipeline.hpp), stage by stage: what the stages share
// and the stages themselves, in the order run_build_pipeline calls them. Each stage reports its
// PipelineEvents through PipelineRun::emit and throws its stage's error.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "artifact/artifact_assets.hpp"
#include "build/build_executor.hpp"
#include "build/source_fetcher.hpp"
#include "cache/cache_chain_factory.hpp"
#include "pipeline/build_pipeline.hpp"
#include "signing/gpg_verifier.hpp"
#include "toolchains/image_package_list.hpp"
#include "toolchains/toolchain_resolution.hpp"

namespace sf {

class App;
class CacheProvider;

struct PipelineRun {
  PipelineRun(App& a, const BuildRequest& r, const PipelineEventSink& e, std::ostream* l)
      : app(a), request(r), events(e), live(l) {}

  App& app;
  const BuildRequest& request;
  const PipelineEventSink& events;
  std::ostream* live = nullptr;  // the build output (nullptr: only the logs)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  PipelineResult result;

  // plan
  std::optional<ResolvedToolchain> resolved;
  std::string backend;  // the container backend's name
  // the artifact (prepare_artifact)
  ArtifactInfo info;
  nlohmann::json view_policy;
  std::string basename;
  std::filesystem::path output_dir;
  CacheChainSetup cache;
  std::vector<CacheProvider*> publish_to;  // --publish: the remote writable layers
  GpgTrust trust;                          // the config's one trust anchor (the cache chain's)
  // fetch, image
  std::vector<FetchResult> fetched;
  std::string image_id;
  ImagePackageList image_packages;
  // build; the executor unpacks the entries for the assembly. It uses `cache`, declared above.
  std::unique_ptr<BuildExecutor> executor;
  std::filesystem::path work;  // the run's work folder (removed when the run ends)
  // assemble
  std::filesystem::path staging;
  nlohmann::json view_json;

  const Plan& plan() const { return result.planned.plan; }
  const ToolchainRelease& release() const { return resolved->image.release; }
  // A backend of the request's kind, a new connection each call.
  std::unique_ptr<ContainerBackend> make_backend() const;
  // Reports an event of `stage` (nothing without a sink).
  void emit(const std::string& stage, const std::string& kind, const std::string& message,
            nlohmann::json data = nlohmann::json::object()) const;
};

// 1. plan: resolve the toolchain and the backend, make the plan.
void stage_plan(PipelineRun& run);
// The artifact's name and place, the cache chain, --publish's layers (checked before any work).
void prepare_artifact(PipelineRun& run);
// A valid signed artifact of this very plan in the output folder (not with --no-cache): true,
// and the result names it (stage "artifact", kind "exists").
bool stage_existing_artifact(PipelineRun& run);
// 2. sources: fetched and verified.
void stage_fetch(PipelineRun& run);
// 3. the toolchain image: built or reused, and what it holds.
void stage_image(PipelineRun& run);
// 4. packages: through the cache chain, else built; sets run.work.
void stage_build(PipelineRun& run);
// 5. the view: the runtime entries, system libraries exported from the image, dlopen names,
// the expected plugins.
void stage_assemble(PipelineRun& run);
// 6. package and sign, with provenance.json.
void stage_package(PipelineRun& run);
// 7. verify --deep.
void stage_verify(PipelineRun& run);
// 8. publish (nothing without --publish): `report` is this run's build (nullptr: the artifact
// existed, the entries come through the chain).
void stage_publish(PipelineRun& run, const BuildReport* report);

// Removes `dir` without waiting: renamed aside at once, then removed by a detached process.
void remove_aside(const std::filesystem::path& dir);

}  // namespace sf
