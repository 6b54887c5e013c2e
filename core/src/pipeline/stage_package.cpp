// 6. package and sign: the view with its provenance.json (the plan, every package and what its
// hash covers, the image and what it holds, the view), packaged by the tarball packager, then by
// each other packager of the request (deb, ...), and signed (artifact_packaging.hpp).
#include <map>

#include "app/app.hpp"
#include "artifact/artifact_packaging.hpp"
#include "artifact/compiled_paths.hpp"
#include "containers/system_library_owners.hpp"
#include "pipeline/pipeline_run.hpp"
#include "recipes/package_hash.hpp"
#include "recipes/planner.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/packager.hpp"
#include "support/template_renderer.hpp"
#include "toolchains/runtime_rootfs.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

// provenance.json's "packages": every package of the plan, a source package with its inputs,
// mirror and how this run got it.
nlohmann::json package_provenance(const PipelineRun& run) {
  const Plan& plan = run.plan();
  const PipelineResult& result = run.result;
  const auto& fetched = run.fetched;
  nlohmann::json packages = nlohmann::json::array();
  std::map<std::string, const FetchResult*> fetched_by_name;
  for (const auto& f : fetched) fetched_by_name[f.item.name] = &f;
  for (const auto& p : plan.packages) {
    nlohmann::json j{{"name", p.name},
                     {"version", p.version},
                     {"origin", to_string(p.origin)},
                     {"runtime", p.runtime}};
    if (p.origin == Origin::kSource) {
      j["hash"] = p.hash;
      j["source_sha256"] = p.source.sha256;
      // Reproducible builds: everything the package hash covers, for `rebuild` to compare.
      j["inputs"] = canonical_description(p);
      if (auto it = fetched_by_name.find(p.name); it != fetched_by_name.end()) {
        if (!it->second->url.empty()) j["mirror"] = it->second->url;
      }
      for (const auto& o : result.report.packages) {
        if (o.name != p.name) continue;
        j["status"] = to_string(o.status);
        if (!o.layer.empty()) j["layer"] = o.layer;
        if (o.source_date_epoch) j["source_date_epoch"] = *o.source_date_epoch;
      }
    } else {
      j["system_packages"] = p.system_package_names;
    }
    packages.push_back(std::move(j));
  }
  return packages;
}

nlohmann::json provenance(const PipelineRun& run) {
  const BuildRequest& request = run.request;
  const Plan& plan = run.plan();
  const PipelineResult& result = run.result;
  const auto& image_packages = run.image_packages;
  return {{"plan",
           {{"root_hash", plan.root().hash},
            {"build_id", result.report.build_id},
            {"request",
             {{"slurm_version", request.slurm_version},
              {"toolchain", request.toolchain},
              {"gpu", request.gpu},
              {"with_dev", request.with_dev}}},
            {"view_policy", run.view_policy}}},
          {"packages", package_provenance(run)},
          {"system_packages", plan.system_package_names},
          {"toolchain",
           {{"image", result.image},
            {"image_id", run.image_id},
            {"image_hash", plan.request.toolchain_image_hash},
            {"image_identity", image_identity(plan.request.toolchain_image_hash, image_packages)},
            {"image_packages_sha256", image_packages.sha256},
            {"image_packages", image_packages.packages}}},
          {"features", request.feature_names()},
          {"view", run.view_json}};
}

// The OS packages holding the libraries the view needs from the system (the view assembler's
// system_libraries), asked of the build image: what OS packages' dependencies are made of.
std::vector<SystemLibraryPackage> system_packages(PipelineRun& run) {
  SystemLibraryOwnersRequest q;
  q.image = run.result.image;
  if (run.view_json.contains("system_libraries") && run.view_json["system_libraries"].is_array()) {
    for (const auto& s : run.view_json["system_libraries"]) {
      if (s.is_string()) q.sonames.push_back(s.get<std::string>());
    }
  }
  q.work_dir = run.work / "system-library-owners";
  q.log_file = run.result.report.log_dir / "system-library-owners.log";
  if (is_cross_build(run.release())) q.multiarch = multiarch_triplet(run.release().arch);
  run.emit("package", "owners",
           "finding the OS packages of " + std::to_string(q.sonames.size()) +
               " system libraries in " + q.image);
  auto engine = run.make_backend();
  return query_system_library_owners(*engine, q);
}

}  // namespace

void stage_package(PipelineRun& run) {
  const Plan& plan = run.plan();
  PipelineResult& result = run.result;
  const fs::path& output_dir = run.output_dir;
  const auto& cache = run.cache;
  run.emit("package", "start", "packaging " + run.basename);
  ArtifactPackagingRequest pr;
  pr.info = run.info;
  pr.staging = run.staging;
  pr.output_dir = output_dir;
  pr.system_libraries = run.release().system_libraries;
  pr.relocation_fallbacks = relocation_fallbacks(plan.packages);
  pr.signer = cache.signer.get();
  pr.provenance = provenance(run);
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec) {
    throw PackagingError("cannot create the output folder: " + ec.message(),
                         {{"stage", "package"}, {"folder", output_dir.string()}},
                         "choose a writable folder with --output");
  }
  auto packager = run.app.packager("tarball");
  std::vector<std::unique_ptr<Packager>> more;
  for (const auto& name : run.request.packagers) {
    if (name != "tarball") more.push_back(run.app.packager(name));
  }
  for (const auto& p : more) pr.more_packagers.push_back(p.get());
  pr.os_version = run.release().os_version;
  pr.base_image = run.release().base_image;
  // Asked only by a packager that makes images (oci): the engine builds nothing otherwise.
  pr.runtime_rootfs = [&run](const std::vector<std::string>& packages) {
    run.emit("package", "runtime-image",
             "making the runtime layer of " + run.release().name + " (" +
                 std::to_string(packages.size()) + " OS package(s) asked)");
    auto engine = run.make_backend();
    RuntimeRootfsRequest q;
    q.image = run.resolved->image;
    q.packages = packages;
    return make_runtime_rootfs(*engine, q);
  };
  if (!more.empty()) {
    pr.system_packages = system_packages(run);
    nlohmann::json owners = nlohmann::json::array();
    for (const auto& s : pr.system_packages) {
      owners.push_back({{"soname", s.soname}, {"package", s.package}, {"version", s.version}});
    }
    pr.provenance["view"]["system_packages"] = owners;
  }
  const auto packaged = package_artifact(pr, *packager, TemplateRenderer());
  result.artifact = packaged.artifact;
  result.provenance = packaged.provenance;
  result.checksums = packaged.checksums;
  std::size_t unhandled = 0;
  for (const auto& c : packaged.compiled_paths) unhandled += c.handled ? 0 : 1;
  run.emit("package", "done",
           result.artifact.string() + " (" + std::to_string(fs::file_size(result.artifact)) +
               " bytes, " + (cache.signer ? "signed" : "unsigned") + ")",
           {{"artifact", result.artifact.string()},
            {"provenance", result.provenance.string()},
            {"checksums", result.checksums.string()},
            {"size", fs::file_size(result.artifact)},
            {"signed", cache.signer != nullptr},
            {"compiled_paths_unhandled", unhandled}});
}

}  // namespace sf
