#include "pipeline/artifact_rebuild.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "app/app.hpp"
#include "artifact/artifact_verifier.hpp"
#include "plugin_host/plugin_host.hpp"
#include "recipes/package_hash.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/strings.hpp"
#include "toolchains/image_package_list.hpp"
#include "toolchains/toolchain_image.hpp"
#include "toolchains/toolchain_resolution.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

std::string string_at(const nlohmann::json& j, const std::vector<std::string>& path) {
  const nlohmann::json* node = &j;
  for (const auto& key : path) {
    if (!node->is_object() || !node->contains(key)) return {};
    node = &(*node)[key];
  }
  return node->is_string() ? node->get<std::string>() : std::string();
}

// Removes a folder at the end of the scope.
struct RemoveDir {
  fs::path dir;
  ~RemoveDir() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

}  // namespace

BuildRequest rebuild_request_from_provenance(const nlohmann::json& prov) {
  auto need = [&](const std::vector<std::string>& path) {
    std::string v = string_at(prov, path);
    if (v.empty()) {
      std::string key = join(path, ".");
      throw UsageError("the provenance has no " + key, {{"field", key}},
                       "give the provenance.json written beside the artifact by build-slurm "
                       "(--provenance FILE)");
    }
    return v;
  };
  BuildRequest r;
  r.slurm_version = need({"slurm_version"});  // the resolved x.y.z, not the series asked for
  r.toolchain = need({"toolchain", "name"});
  r.arch = need({"toolchain", "arch"});
  r.gpu.clear();
  if (prov.contains("plan") && prov["plan"].is_object() && prov["plan"].contains("request") &&
      prov["plan"]["request"].contains("gpu") && prov["plan"]["request"]["gpu"].is_array()) {
    for (const auto& g : prov["plan"]["request"]["gpu"]) {
      if (g.is_string()) r.gpu.push_back(g.get<std::string>());
    }
  }
  return r;
}

std::map<std::string, std::vector<std::string>> plan_input_changes(const nlohmann::json& recorded,
                                                                   const Plan& plan) {
  std::map<std::string, std::vector<std::string>> out;
  if (!recorded.is_array()) return out;
  std::set<std::string> seen;
  for (const auto& p : recorded) {
    if (!p.is_object() || !p.contains("inputs") || !p["name"].is_string()) continue;
    const std::string name = p["name"].get<std::string>();
    seen.insert(name);
    const PackageSpec* spec = plan.find(name);
    if (spec == nullptr) {
      out[name] = {"(not in the plan)"};
      continue;
    }
    const nlohmann::json now = canonical_description(*spec);
    const nlohmann::json& then = p["inputs"];
    std::set<std::string> keys;
    for (const auto& [k, _] : now.items()) keys.insert(k);
    if (then.is_object()) {
      for (const auto& [k, _] : then.items()) keys.insert(k);
    }
    for (const auto& k : keys) {
      const bool in_now = now.contains(k);
      const bool in_then = then.is_object() && then.contains(k);
      if (in_now != in_then || (in_now && now[k] != then[k])) out[name].push_back(k);
    }
  }
  for (const auto& p : plan.packages) {
    if (p.origin == Origin::kSource && !seen.count(p.name) && !seen.empty()) {
      out[p.name] = {"(not in the provenance)"};
    }
  }
  return out;
}

nlohmann::json RebuildReport::to_json() const {
  nlohmann::json j{{"provenance", provenance_file.string()},
                   {"slurm_version", request.slurm_version},
                   {"toolchain", request.toolchain},
                   {"recorded_image_hash", recorded_image_hash},
                   {"image_hash", current_image_hash},
                   {"image_list_recorded", image_list_recorded},
                   {"image_changes", image_changes},
                   {"input_changes", input_changes},
                   {"refused", refused},
                   {"identical", identical()},
                   {"exit_code", exit_code()}};
  if (comparison) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& d : comparison->differences) {
      files.push_back({{"path", d.path},
                       {"kind", d.kind},
                       {"expected_size", d.expected_size},
                       {"rebuilt_size", d.rebuilt_size},
                       {"sections", d.sections}});
    }
    j["expected_sha256"] = comparison->expected_sha256;
    j["rebuilt_sha256"] = comparison->rebuilt_sha256;
    j["entries"] = comparison->entries;
    j["differences"] = files;
  }
  return j;
}

RebuildReport rebuild_artifact(App& app, const RebuildOptions& options,
                               const PipelineEventSink& events, std::ostream* live) {
  RebuildReport report;
  if (!fs::is_regular_file(options.artifact)) {
    throw UsageError("no artifact at " + options.artifact.string(),
                     {{"artifact", options.artifact.string()}},
                     "give the .tar.zst (or .tar.gz, .tar.xz) that build-slurm wrote");
  }
  report.provenance_file =
      options.provenance ? *options.provenance : provenance_path_for(options.artifact);
  nlohmann::json prov;
  try {
    std::ifstream in(report.provenance_file);
    if (!in) throw std::runtime_error("cannot open it");
    prov = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw UsageError(
        "cannot read the provenance " + report.provenance_file.string() + ": " + e.what(),
        {{"provenance", report.provenance_file.string()}},
        "give the provenance.json published with the artifact: --provenance FILE");
  }
  report.request = rebuild_request_from_provenance(prov);
  report.request.backend = options.backend;
  report.request.jobs = options.jobs;
  report.recorded_image_hash = string_at(prov, {"toolchain", "image_hash"});

  // 1. The toolchain image, and what it holds compared with what the artifact was built in.
  ResolvedToolchain resolved = resolve_toolchain(
      app, report.request.toolchain, report.request.feature_names(), report.request.arch);
  report.current_image_hash = resolved.image_hash;
  Config& config = app.config();
  const std::string backend_name =
      options.backend.empty() ? config.default_backend : options.backend;
  {
    auto engine = app.container_backend(backend_name);
    engine->info();
    ToolchainImageRequest ireq = resolved.image;
    ireq.cache_dir = config.cache_dir;
    if (live != nullptr) {
      ireq.progress = [live](std::string_view line) { *live << "  | " << line << "\n"; };
    }
    const auto image = prepare_toolchain_image(*engine, ireq);
    std::string id;
    if (auto inspected = engine->inspect_image(image.tag)) id = inspected->id;
    const ImagePackageList now = image_package_list(*engine, image.tag, id, config.cache_dir);
    const nlohmann::json* recorded = nullptr;
    if (prov.contains("toolchain") && prov["toolchain"].is_object() &&
        prov["toolchain"].contains("image_packages") &&
        prov["toolchain"]["image_packages"].is_array()) {
      recorded = &prov["toolchain"]["image_packages"];
    }
    if (recorded != nullptr) {
      report.image_list_recorded = true;
      std::vector<std::string> then;
      for (const auto& p : *recorded) {
        if (p.is_string()) then.push_back(p.get<std::string>());
      }
      report.image_changes = package_list_changes(then, now.packages);
    } else {
      log().warn(
          "rebuild: {} records no toolchain package list (made before slurm-factory "
          "recorded it): the image cannot be checked",
          report.provenance_file.string());
    }
  }
  if (!report.image_changes.empty() && !options.keep_going) {
    report.refused = true;
    return report;
  }

  // 2. The plan from today's recipes, against the recorded inputs.
  const PlannedBuild planned = plan_build(app, report.request);
  if (prov.contains("packages"))
    report.input_changes = plan_input_changes(prov["packages"], planned.plan);

  // 3. The build with no binary cache: one throwaway local layer, nothing read from any layer.
  const fs::path scratch =
      fs::path(config.cache_dir) / "tmp" / ("rebuild-" + std::to_string(::getpid()));
  RemoveDir remove{scratch};
  std::error_code ec;
  fs::remove_all(scratch, ec);
  fs::create_directories(scratch, ec);
  fs::permissions(scratch, fs::perms::owner_all, fs::perm_options::replace, ec);
  BuildRequest request = report.request;
  request.no_cache = true;
  request.output = scratch / "out";
  request.publish = PublishPolicy::kNone;
  CacheLayerSpec local;
  local.name = "local";
  local.type = "local";
  local.url = "file://" + (scratch / "cache").string();
  local.writable = true;
  const auto layers = config.cache_layers;
  config.cache_layers = {local};
  struct RestoreLayers {
    Config& c;
    std::vector<CacheLayerSpec> layers;
    ~RestoreLayers() { c.cache_layers = layers; }
  } restore{config, layers};
  const PipelineResult built = run_build_pipeline(app, request, events, live);
  report.rebuilt = built.artifact;

  // 4. The comparison.
  auto c = compare_archives(options.artifact, built.artifact, scratch / "compare");
  if (!c) {
    throw VerificationError(
        "cannot compare the artifacts: " + c.error().message,
        {{"artifact", options.artifact.string()}, {"rebuilt", built.artifact.string()}},
        "check that both archives are readable");
  }
  report.comparison = std::move(*c);
  return report;
}

std::string format_rebuild_report(const RebuildReport& r) {
  std::string out;
  out += "provenance: " + r.provenance_file.string() + "\n";
  out += "request:    Slurm " + r.request.slurm_version + ", toolchain " + r.request.toolchain;
  for (const auto& g : r.request.gpu) out += ", gpu " + g;
  out += "\n";
  if (!r.recorded_image_hash.empty() && r.recorded_image_hash != r.current_image_hash) {
    out += "image:      definition changed: " + r.recorded_image_hash.substr(0, 12) + " -> " +
           r.current_image_hash.substr(0, 12) + "\n";
  }
  if (!r.image_list_recorded) {
    out += "image:      no package list recorded: not checked\n";
  } else if (r.image_changes.empty()) {
    out += "image:      same packages as recorded\n";
  } else {
    out += "image:      " + std::to_string(r.image_changes.size()) +
           " package(s) differ from the image the artifact was built in:\n";
    for (const auto& [name, change] : r.image_changes) out += "  " + name + "  " + change + "\n";
  }
  if (r.refused) {
    out +=
        "refused: the toolchain image cannot be made identical to the one recorded, so a "
        "rebuild would prove nothing. Rebuild on a machine whose image has those versions "
        "(e.g. from the same base image), or pass --keep-going to compare anyway.\n";
    return out;
  }
  for (const auto& [name, keys] : r.input_changes) {
    std::string list = join(keys, ", ");
    out += "inputs:     " + name + " differs from the provenance: " + list + "\n";
  }
  if (!r.comparison) return out;
  const ArchiveComparison& c = *r.comparison;
  out += "expected:   " + c.expected_sha256 + "\n";
  out += "rebuilt:    " + c.rebuilt_sha256 + "\n";
  if (c.same_bytes()) {
    out += "identical: the rebuilt artifact has the same sha256 (" + std::to_string(c.entries) +
           " entries)\n";
  } else if (c.differences.empty()) {
    out += "DIFFERENT: the archives' bytes differ, but every entry is the same (" +
           std::to_string(c.entries) + " entries)\n";
  } else {
    out += "DIFFERENT: " + std::to_string(c.differences.size()) + " of " +
           std::to_string(c.entries) + " entries differ:\n" + format_differences(c);
  }
  return out;
}

}  // namespace sf
