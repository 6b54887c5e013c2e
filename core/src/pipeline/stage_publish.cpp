// 8. publish: the plan's entries (from this run's copies, else through the chain) to every
// remote writable layer that lacks them; with "all" also the artifact's files
// (artifact_publisher.hpp).
#include <unistd.h>

#include <map>

#include "app/app.hpp"
#include "artifact/artifact_publisher.hpp"
#include "artifact/repository_publisher.hpp"
#include "cache/cache_chain.hpp"
#include "pipeline/pipeline_run.hpp"
#include "signing/gpg_signer.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/errors.hpp"
#include "support/input_validation.hpp"
#include "support/safe_walk.hpp"
#include "support/strings.hpp"

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

// Each packager's files, as the provenance beside the artifact lists them (this run's or the one
// that made the existing artifact): plain names in the artifact's folder only.
std::map<std::string, std::vector<fs::path>> outputs_by_packager(const fs::path& provenance) {
  std::map<std::string, std::vector<fs::path>> out;
  auto text = read_file_beneath(provenance.parent_path(), provenance.filename().string(),
                                std::uint64_t{64} << 20U);
  if (!text) return out;
  const auto prov = nlohmann::json::parse(*text, nullptr, false);
  if (!prov.is_object() || !prov.contains("outputs") || !prov["outputs"].is_array()) return out;
  for (const auto& o : prov["outputs"]) {
    if (!o.is_object()) continue;
    const std::string file = o.value("file", "");
    if (input_problem(InputKind::kPathComponent, file).empty()) {
      out[o.value("packager", "")].push_back(provenance.parent_path() / file);
    }
  }
  return out;
}

// --publish all: each packager that has a package repository (deb: APT) gets this build's files
// into it on every publish layer, signed with the site key.
void publish_repositories(PipelineRun& run, const fs::path& scratch) {
  const auto outputs = outputs_by_packager(run.result.provenance);
  std::vector<std::string> failures;
  for (const auto& name : run.request.packagers) {
    auto it = outputs.find(name);
    if (name == "tarball" || it == outputs.end()) continue;
    auto repository = run.app.package_repository(name);
    if (!repository) continue;
    ArtifactDescription d;
    d.slurm_version = run.info.slurm_version;
    d.toolchain = run.info.toolchain;
    d.toolchain_family = run.info.toolchain_family;
    d.os_name = run.info.os_name;
    d.arch = run.info.arch;
    d.gpu = run.info.gpu;
    d.install_root = run.info.install_root;
    run.emit("publish", "repository",
             "publishing " + std::to_string(it->second.size()) + " " + name +
                 " package(s) into the " + repository->name() + " repository",
             {{"packager", name}, {"repository", repository->name()}});
    const auto pubs =
        publish_to_repository(*repository, it->second, d, run.publish_to, run.cache.signer.get(),
                              *run.cache.verifier, scratch / "repositories");
    for (const auto& p : pubs) {
      run.emit("publish", p.failure.empty() ? "repository-done" : "repository-failed",
               p.layer + ": " + repository->name() + " " +
                   (p.failure.empty() ? p.report.index + " lists " +
                                            std::to_string(p.report.listed) + " package(s)"
                                      : p.failure),
               p.to_json());
      if (!p.failure.empty()) failures.push_back(p.layer + ": " + p.failure);
    }
  }
  if (!failures.empty()) {
    throw CacheError(
        "the package repository was not published to every layer: " + join(failures, "; "),
        {{"stage", "publish"}},
        "fix what the message names and run the same build-slurm --publish all "
        "again (the artifact and packages are reused)");
  }
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
  if (request.publish == PublishPolicy::kAll) publish_repositories(run, scratch);
}

}  // namespace sf
