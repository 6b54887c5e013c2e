#include <algorithm>

#include "app/app.hpp"
#include "pipeline/build_pipeline.hpp"
#include "pipeline/pipeline_run.hpp"
#include "plugin_host/plugin_host.hpp"
#include "recipes/recipe_book.hpp"
#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_image.hpp"

namespace sf {

namespace {

using Clock = std::chrono::steady_clock;

using Resolved = ResolvedToolchain;

Resolved resolve(App& app, const BuildRequest& request) {
  return resolve_toolchain(app, request.toolchain, request.feature_names(), request.arch);
}

PlannedBuild plan_with(const Resolved& r, const BuildRequest& request) {
  const auto start = Clock::now();
  PlannedBuild out;
  RecipeBook book = RecipeBook::load_directory(RecipeBook::default_directory());
  PlanRequest req;
  req.slurm_version = request.slurm_version;
  req.toolchain = r.image.release;
  req.toolchain_image_hash = r.image_hash;
  req.features = request.feature_names();
  req.build_network = r.build_network;
  for (const auto& f : r.features) {
    for (const auto& a : f->configure_args()) req.extra_slurm_configure_args.push_back(a);
  }
  out.plan = make_plan(book, req);
  out.image_tag = toolchain_image_tag(r.image.release.name, req.toolchain_image_hash);
  // The setup script installs every -dev package of the release; the plan must need no other.
  const auto installed = r.catalog.family_of(r.image.release.name)
                             .setup_packages(r.image.release, r.image.extra_packages);
  auto is_installed = [&](const std::string& p) {
    // A cross build's image installs the target's package as NAME:<arch>.
    for (const auto& name : {p, p + ":" + r.image.release.arch}) {
      if (std::find(installed.begin(), installed.end(), name) != installed.end()) return true;
    }
    return false;
  };
  for (const auto& p : out.plan.system_package_names) {
    if (!is_installed(p)) {
      throw ConfigurationError(
          "the plan needs the system package " + p + ", which the build image of " +
              r.image.release.name + " does not install",
          {{"toolchain", r.image.release.name}, {"package", p}},
          "add it to the release's dev_packages (" + r.image.release.origin + ")");
    }
  }
  out.plan_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return out;
}

std::string backend_name(App& app, const BuildRequest& request) {
  const std::string name = request.backend.empty() ? app.config().default_backend : request.backend;
  const auto names = app.plugins().container_backend_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string list = join(names, ", ");
    throw UsageError("unknown container backend '" + name + "'", {{"backend", name}},
                     "valid backends (loaded plugins): " + (list.empty() ? "(none)" : list));
  }
  return name;
}

}  // namespace

PlannedBuild plan_build(App& app, const BuildRequest& request) {
  return plan_with(resolve(app, request), request);
}

void stage_plan(PipelineRun& run) {
  const BuildRequest& request = run.request;
  run.emit("plan", "start",
           "planning Slurm " + request.slurm_version + " for " + request.toolchain);
  run.resolved.emplace(resolve(run.app, request));
  run.backend = backend_name(run.app, request);
  run.result.planned = plan_with(*run.resolved, request);
  const Plan& plan = run.plan();
  run.emit(
      "plan", "done",
      "Slurm " + plan.slurm_version + ": " + std::to_string(plan.packages.size()) + " packages",
      {{"slurm_version", plan.slurm_version},
       {"packages", plan.packages.size()},
       {"plan_ms", run.result.planned.plan_ms},
       {"root_hash", plan.root().hash}});
}

}  // namespace sf
