// The artifact's name and place, the cache chain it is built through, and the artifact of this
// very plan that may be there already.
#include <spdlog/spdlog.h>

#include "app/app.hpp"
#include "artifact/artifact_checksums.hpp"
#include "artifact/artifact_location.hpp"
#include "artifact/artifact_publisher.hpp"
#include "artifact/artifact_verifier.hpp"
#include "pipeline/pipeline_run.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/log.hpp"
#include "support/safe_walk.hpp"

namespace fs = std::filesystem;

namespace sf {

void prepare_artifact(PipelineRun& run) {
  const BuildRequest& request = run.request;
  const Plan& plan = run.plan();
  const ToolchainRelease& release = run.release();
  ArtifactInfo& info = run.info;
  info.slurm_version = plan.slurm_version;
  info.toolchain = release.name;
  info.toolchain_family = release.family;
  info.os_name = release.os_name;
  info.arch = plan.root().toolchain.arch;
  info.gpu = request.gpu;
  info.install_root = fs::path(plan.request.prefix).parent_path().string();
  info.with_dev = request.with_dev;
  run.view_policy = artifact_view_policy(plan, request.with_dev);
  // Every packager asked for, made once now: a missing plugin or a refused setting stops the
  // request before any build, not after it.
  for (const auto& name : request.packagers) (void)run.app.packager(name);
  run.basename = artifact_basename(info);
  const fs::path output_root =
      request.output ? *request.output : fs::path(run.app.config().cache_dir) / "builds";
  run.output_dir = artifact_output_dir(output_root, plan);
  CacheChainRequest cr;
  cr.local_cache = request.local_cache;
  cr.no_cache = request.no_cache;
  cr.signing_key = request.signing_key;
  run.cache = make_cache_chain(run.app, cr);
  if (!run.cache.signer) {
    log().warn(
        "no signing key configured (signing.key_id): new cache entries and the artifact are "
        "unsigned, and a rerun reuses them only with signing.allow_unsigned: true");
  }
  // --publish: the remote writable layers, checked before any work.
  if (request.publish != PublishPolicy::kNone) {
    run.publish_to = publish_targets(run.cache);
    if (run.publish_to.empty()) throw_no_publish_target(run.cache, request.publish);
  }
  // The one trust anchor of the config, the same the cache chain verifies entries with.
  run.trust = run.cache.verifier->trust();
}

namespace {

// Whether the provenance beside an existing artifact lists outputs of every packager asked for,
// each file there with the sha256 recorded (a run with --packager deb after one without makes
// the packages; the artifact itself is then packaged again, from the cache).
bool has_every_output(const fs::path& provenance, const std::vector<std::string>& packagers) {
  if (packagers.size() <= 1) return true;
  auto text = read_file_beneath(provenance.parent_path(), provenance.filename().string(),
                                std::uint64_t{64} << 20U);
  if (!text) return false;
  const auto prov = nlohmann::json::parse(*text, nullptr, false);
  if (!prov.is_object() || !prov.contains("outputs") || !prov["outputs"].is_array()) return false;
  for (const auto& name : packagers) {
    bool found = false;
    for (const auto& o : prov["outputs"]) {
      if (!o.is_object() || o.value("packager", "") != name) continue;
      const std::string file = o.value("file", "");
      if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..") {
        return false;
      }
      auto sha = sha256_of_file(provenance.parent_path() / file);
      if (!sha || *sha != o.value("sha256", "")) return false;
      found = true;
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

bool stage_existing_artifact(PipelineRun& run) {
  if (run.request.no_cache) return false;
  const Plan& plan = run.plan();
  auto existing = find_valid_artifact(run.output_dir, run.basename, plan.root().hash, run.trust,
                                      run.view_policy);
  if (!existing) return false;
  if (!has_every_output(provenance_path_for(*existing), run.request.packagers)) return false;
  PipelineResult& result = run.result;
  result.existed = true;
  result.artifact = *existing;
  result.provenance = provenance_path_for(*existing);
  result.checksums = run.output_dir / "SHA256SUMS";
  run.emit("artifact", "exists",
           "a valid signed artifact of this plan exists: " + existing->string(),
           {{"artifact", existing->string()}, {"root_hash", plan.root().hash}});
  return true;
}

}  // namespace sf
