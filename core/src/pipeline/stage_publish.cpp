// 8. publish: the plan's entries (from this run's copies, else through the chain) to every
// remote writable layer that lacks them; with "all" also the artifact's files
// (artifact_publisher.hpp).
#include <unistd.h>

#include "app/app.hpp"
#include "artifact/artifact_publisher.hpp"
#include "cache/cache_chain.hpp"
#include "pipeline/pipeline_run.hpp"
#include "signing/gpg_signer.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

// The entry keys of the plan's source packages: the run's own where it has the package.
std::vector<CacheEntryKey> entry_keys(const Plan& plan, const BuildReport* report) {
  std::vector<CacheEntryKey> keys;
  for (const auto& p : plan.packages) {
    if (p.origin != Origin::kSource) continue;
    CacheEntryKey key = entry_key_for(p);
    const PackageOutcome* outcome = nullptr;
    if (report != nullptr) {
      for (const auto& o : report->packages) {
        if (o.name == p.name) outcome = &o;
      }
    }
    if (outcome != nullptr) key = outcome->key;
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace

void stage_publish(PipelineRun& run, const BuildReport* report) {
  const BuildRequest& request = run.request;
  if (request.publish == PublishPolicy::kNone) return;
  const Plan& plan = run.plan();
  PipelineResult& result = run.result;
  std::string names;
  for (const auto* t : run.publish_to) names += (names.empty() ? "" : ", ") + t->name();
  run.emit("publish", "start", "publishing (" + to_string(request.publish) + ") to " + names,
           {{"policy", to_string(request.publish)}, {"layers", names}});
  const fs::path scratch =
      fs::path(run.app.config().cache_dir) / "work" / ("publish-" + std::to_string(::getpid()));
  struct RemoveScratch {
    fs::path dir;
    ~RemoveScratch() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } remove_scratch{scratch};
  ArtifactPublisher publisher(
      *run.cache.chain, run.publish_to, scratch, run.cache.signer.get(),
      [&](const std::string& layer, const std::string& key, std::uint64_t bytes) {
        run.emit("publish", "upload", layer + ": " + key,
                 {{"layer", layer}, {"key", key}, {"bytes", bytes}});
      });
  publish_entries(publisher, *run.cache.chain, entry_keys(plan, report),
                  report != nullptr ? report->entries_dir : fs::path(), scratch, request.publish);
  if (request.publish == PublishPolicy::kAll) {
    publisher.publish_files(
        artifact_publish_prefix(run.release().name, plan.slurm_version, run.info.arch),
        artifact_publish_files(result.artifact));
  }
  result.publish = publisher.report();
  const PublishReport& pr = *result.publish;
  std::size_t entries_up = 0;
  std::size_t files_up = 0;
  std::uint64_t bytes = 0;
  for (const auto& l : pr.layers) {
    entries_up += l.entries_uploaded.size();
    files_up += l.files_uploaded.size();
    bytes += l.bytes_uploaded;
  }
  run.emit("publish", pr.failed() ? "failed" : "done",
           std::to_string(entries_up) + " entr" + (entries_up == 1 ? "y" : "ies") + " and " +
               std::to_string(files_up) + " artifact file(s) uploaded (" + std::to_string(bytes) +
               " bytes) to " + names + (pr.failed() ? "; some layers failed" : ""),
           {{"uploaded", pr.uploaded()}, {"bytes", bytes}, {"layers", pr.to_json()}});
  publisher.throw_if_failed(result.artifact);
}

}  // namespace sf
