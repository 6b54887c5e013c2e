#include "recipes/version_constraints.hpp"

#include <stdexcept>

#include "slurm_factory/errors.hpp"

namespace sf {

std::string effective_version(const Recipe& recipe, const PackageSpec& spec) {
  if (spec.origin == Origin::kSource) return spec.version;
  return recipe.system_version_for(spec.toolchain.family, spec.toolchain.release);
}

namespace {

bool allowed(const VersionConstraint& c, const std::string& version) {
  try {
    return c.versions.contains(version);
  } catch (const std::invalid_argument&) {
    return true;  // not a version we can compare: nothing to say
  }
}

}  // namespace

void check_version_constraints(const RecipeBook& book, const Plan& plan) {
  const PlanRequest& req = plan.request;
  ConditionContext ctx;
  ctx.slurm_version = plan.slurm_version;
  ctx.features = req.features;
  ctx.family = req.toolchain.family;
  ctx.release = req.toolchain.name;
  ctx.arch = req.arch.empty() ? req.toolchain.arch : req.arch;
  for (const auto& kv : req.toolchain.dev_packages) {
    if (!kv.second.empty()) ctx.system_has.push_back(kv.first);
  }
  const std::string toolchain = req.toolchain.family + "/" + req.toolchain.name;
  for (const auto& spec : plan.packages) {
    const Recipe* r = book.find(spec.name);
    if (r == nullptr || r->version_constraints.empty()) continue;
    const std::string version = effective_version(*r, spec);
    if (version.empty()) continue;  // a system package of unknown version
    ctx.package_version = version;
    for (const auto& c : r->version_constraints) {
      if (!c.when.holds(ctx) || allowed(c, version)) continue;
      const std::string from =
          spec.origin == Origin::kSource
              ? "from: source, the recipe's version"
              : "from: system, what " + toolchain + "'s " +
                    (spec.system_package_names.empty() ? spec.system_package
                                                       : spec.system_package_names.front()) +
                    " ships";
      // What would fit: a version of the recipe (built from source), or the release's package.
      std::string fits;
      for (const auto& v : r->version_names()) {
        if (allowed(c, v)) {
          fits = v;
          break;
        }
      }
      const std::string system = r->system_version_for(req.toolchain.family, req.toolchain.name);
      std::string todo;
      if (spec.origin == Origin::kSystem && !fits.empty()) {
        todo = "build " + spec.name + " from source in a version this Slurm accepts: --from " +
               spec.name + "=source --with " + spec.name + "=" + fits;
      } else if (spec.origin == Origin::kSource && !system.empty() && allowed(c, system)) {
        todo = "take " + toolchain + "'s " + spec.name + " " + system + ": --from " + spec.name +
               "=system";
      } else if (spec.origin == Origin::kSource && !fits.empty()) {
        todo = "use a version this Slurm accepts: --with " + spec.name + "=" + fits;
      } else {
        todo = "add a version of " + spec.name + " in " + c.versions.str() + " to " + r->where.file;
      }
      todo += ", or use a Slurm release or toolchain whose " + spec.name + " fits (" +
              c.where.str() + ")";
      throw ConfigurationError(
          "Slurm " + plan.slurm_version + " cannot use " + spec.name + " " + version + ": " +
              (c.why.empty() ? spec.name + " must be " + c.versions.str() : c.why),
          {{"slurm", plan.slurm_version},
           {"package", spec.name + " " + version + " (" + from + ")"},
           {"toolchain", toolchain},
           {"accepted", c.versions.str()},
           {"constraint", c.where.str()}},
          todo);
    }
  }
}

}  // namespace sf
