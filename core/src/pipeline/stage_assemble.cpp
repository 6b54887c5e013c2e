// 5. the view: the runtime entries of the run unpacked (verified again) and assembled, the
// libraries of `from: system` dependencies copied out of the build image, the names plugins
// dlopen, and every plugin the recipes and features expect.
#include <set>

#include "artifact/dlopen_names.hpp"
#include "artifact/plan_view.hpp"
#include "artifact/view_assembler.hpp"
#include "containers/system_library_export.hpp"
#include "pipeline/pipeline_run.hpp"
#include "recipes/planner.hpp"
#include "recipes/required_plugins.hpp"
#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

// The runtime source packages of the run, each unpacked under <work>/trees/<name>.
std::vector<ViewEntry> unpack_runtime_entries(PipelineRun& run) {
  const Plan& plan = run.plan();
  std::vector<ViewEntry> entries;
  for (const auto& o : run.result.report.packages) {
    const PackageSpec* spec = plan.find(o.name);
    if (spec == nullptr || spec->origin != Origin::kSource || !spec->runtime) continue;
    const fs::path tree = run.work / "trees" / o.name;
    auto unpacked =
        run.executor->unpack_entry(o, tree);  // verified again, pinned to the run's entry
    if (!unpacked) {
      throw PackagingError("cannot unpack the entry of " + o.name + " " + o.version,
                           {{"stage", "assemble"},
                            {"package", o.name},
                            {"entry", o.tarball.string()},
                            {"reason", unpacked.error().message}},
                           "check it with 'slurm-factory cache verify --remove', then rerun");
    }
    entries.push_back({o.name, o.version, tree, spec->public_programs});
  }
  return entries;
}

}  // namespace

void stage_assemble(PipelineRun& run) {
  const Plan& plan = run.plan();
  const PipelineResult& result = run.result;
  const ToolchainRelease& release = run.release();
  run.emit("assemble", "start", "assembling the view");
  run.staging = run.work / "artifact";
  const fs::path view = run.staging / "view";
  const std::vector<ViewEntry> entries = unpack_runtime_entries(run);
  ViewAssemblyOptions vo;
  vo.keep_dev = run.request.with_dev;
  vo.system_libraries = release.system_libraries;
  vo.arch = release.arch;
  vo.dlopened = plan_dlopened_libraries(plan);  // recipe runtime_dlopen
  ViewAssemblyReport view_report = assemble_view(entries, view, vo);
  SystemLibraryExport exported;
  if (!view_report.unresolved.empty()) {
    // Libraries of `from: system` dependencies: copied out of the build image, then assembled
    // again so that the assembler bundles them (and what they need) like the rest.
    SystemLibraryExportRequest xr;
    xr.image = result.image;
    std::set<std::string> sonames;
    for (const auto& u : view_report.unresolved) sonames.insert(u.soname);
    xr.sonames.assign(sonames.begin(), sonames.end());
    xr.out_dir = run.work / "system-libraries";
    if (is_cross_build(release)) xr.multiarch = multiarch_triplet(release.arch);
    xr.log_file = result.report.log_dir / "export-system-libraries.log";
    std::string names = join(xr.sonames, " ");
    run.emit("assemble", "export",
             "copying " + std::to_string(xr.sonames.size()) + " system librar" +
                 (xr.sonames.size() == 1 ? "y" : "ies") + " out of " + result.image + ": " + names,
             {{"sonames", xr.sonames}, {"image", result.image}});
    auto engine = run.make_backend();
    exported = export_system_libraries(*engine, xr);
    vo.system_library_dirs = {exported.dir};
    std::error_code ec;
    fs::remove_all(view, ec);
    view_report = assemble_view(entries, view, vo);
  }
  if (!view_report.unresolved.empty()) {
    throw_unresolved_libraries(view_report, release.name, release.origin, result.image,
                               result.report.log_dir / "export-system-libraries.log");
  }
  // The names plugins pass to dlopen, read from the built plugins: each library of the view a
  // plugin dlopens is carried under exactly that name (Slurm 22.05's mpi_pmix: "libpmix.so").
  DlopenNameOptions dno;
  dno.declared = vo.dlopened;
  const DlopenNameReport dlopen_report = provide_dlopen_names(view, dno);
  run.view_json = view_provenance(view_report, dlopen_report, exported.found, result.image);
  // Every expected plugin (the recipes' expected_plugins, the features' required plugins) must be
  // there: configure quietly builds without a plugin whose -dev files it does not find.
  std::vector<const Feature*> features;
  for (const auto& f : run.resolved->features) features.push_back(f.get());
  PluginCheckContext pc;
  pc.package = plan.root().name + " " + plan.root().version;
  pc.release_origin = release.origin;
  for (const auto& o : result.report.packages) {
    if (o.name == plan.root().name) {
      pc.log = o.log_file.string();
      pc.entry = o.key.manifest();
    }
  }
  require_plugins(view, plan.expected_plugins, features, pc);
  run.emit("assemble", "done",
           std::to_string(view_report.files) + " files, " +
               std::to_string(view_report.bundled.size()) + " system librar" +
               (view_report.bundled.size() == 1 ? "y" : "ies") + " bundled",
           {{"files", view_report.files},
            {"bundled", run.view_json["bundled"]},
            {"dlopen_names", run.view_json["dlopen_names"]},
            {"dropped", view_report.dropped.size()},
            {"private", view_report.private_files.size()}});
}

}  // namespace sf
