// The planner: a request (Slurm version, toolchain release and its image hash, features, arch)
// becomes a Plan, a DAG of PackageSpecs in dependency order, each with resolved arguments and a
// content hash (package_hash.hpp). Pure: no network, no containers, no files besides the recipes
// already loaded.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "recipes/recipe.hpp"
#include "recipes/recipe_book.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {

inline constexpr const char* kCanonicalPrefix = "/opt/slurm/view";

struct PlanRequest {
  std::string slurm_version;  // "24.11" (newest known 24.11.x), "24.11.5" or "latest"
  ToolchainRelease toolchain;
  std::string toolchain_image_hash;   // hash of the build image definition
  std::vector<std::string> features;  // "gpu-cuda", ... (order does not matter)
  std::string arch;                   // "" = toolchain.arch
  std::string prefix = kCanonicalPrefix;
  // Per-package overrides: origin ("pmix" -> source) and version ("munge" -> "0.5.16").
  std::map<std::string, Origin> origin_overrides;
  std::map<std::string, std::string> version_overrides;
  // Extra Slurm configure arguments contributed by feature plugins (Feature::configure_args()).
  std::vector<std::string> extra_slurm_configure_args;
  std::string root = "slurm";
  // build.network: the compile step may reach the network, so what it builds may depend on more
  // than the sources. Part of every built package's hash (only when true: hermetic hashes stay).
  bool build_network = false;
};

struct DependencyEdge {
  std::string name;
  std::vector<DependencyType> types;
  std::string hash;  // the dependency's hash (filled by the planner)
};

struct SourceRef {
  std::string sha256;
  std::string filename;
  std::vector<std::string> mirrors;
  std::string strip_dir;
};

struct PatchRef {
  std::string file;  // as the recipe names it, relative to its directory (a hash input)
  std::string sha256;
  int strip = 1;
  // Where the build reads it: file resolved against the recipe directory ("" when the book has
  // none). Not a hash input: the bytes are pinned by sha256.
  std::string path;
  // The recipe's `relocates` (Patch::relocates): not a build input.
  std::vector<std::string> relocates;
};

struct ToolchainIdentity {
  std::string family;
  std::string release;
  std::string arch;
  std::string image_hash;
};

struct PackageSpec {
  std::string name;
  std::string version;
  Origin origin = Origin::kSource;
  // Origin system: the logical dev package and the release's package names for it.
  std::string system_package;
  std::vector<std::string> system_package_names;
  std::string system_prefix;  // where ${dep:NAME} points for a system package
  // Sonames dependents dlopen at run time (the recipe's runtime_dlopen): the view must provide
  // them. Not a build input, so not in the hash.
  std::vector<std::string> runtime_dlopen;
  // Globs on the names of bin/ and sbin/ programs that go into the view (the recipe's
  // public_programs; {"*"} = all). Not a build input, so not in the hash.
  std::vector<std::string> public_programs;
  BuildSystem build_system = BuildSystem::kAutotools;
  bool autoreconf = false;
  // The recipe's incremental (build_tree_store.hpp): not a build input, so not in the hash.
  bool incremental = false;
  std::string make_shell;      // the recipe's make_shell ("" = the Makefiles' own)
  bool build_network = false;  // built with network during compile (PlanRequest::build_network)
  std::string configure_command;
  SourceRef source;  // origin source only
  std::vector<PatchRef> patches;
  std::vector<std::string> configure_args;  // resolved, except ${jobs}
  std::vector<std::string> build_args;
  std::vector<std::string> install_args;
  // One more `make` run per entry after the install step (the recipe's extra_install, resolved).
  std::vector<std::string> extra_install;
  std::map<std::string, std::string> env;
  std::vector<DependencyEdge> dependencies;      // direct, in recipe order
  std::vector<std::string> system_dependencies;  // logical dev packages (no recipe of ours)
  std::vector<std::string> features;             // the requested features that bear on this package
  std::string prefix;
  ToolchainIdentity toolchain;
  // In the final view (reachable from the root through link/run edges), or build-only.
  bool runtime = true;
  std::string hash;  // 64 hex
  // The file the recipe was read from (a site's SLURM_FACTORY_RECIPE_DIR, the installed recipes):
  // what error messages tell the admin to fix. Not a build input, so not in the hash.
  std::string recipe_file;

  std::string hash12() const { return hash.substr(0, 12); }
};

// Where to fix a package's recipe, for error messages: its file, or "the NAME recipe" when the
// spec was not planned from a file.
std::string recipe_to_fix(const std::string& name, const std::string& recipe_file);
inline std::string recipe_to_fix(const PackageSpec& spec) {
  return recipe_to_fix(spec.name, spec.recipe_file);
}

// A file the view must hold after the build (the recipes' expected_plugins, resolved): the
// plugin's name, its path relative to the view, and what provides it in words an admin can act
// on ("libfreeipmi-dev, libipmimonitoring-dev (dev_packages.freeipmi)", "recipe curl").
struct PlannedPlugin {
  std::string package;  // the recipe that declares it: "slurm"
  std::string plugin;   // "acct_gather_energy/ipmi"
  std::string file;     // "lib/slurm/acct_gather_energy_ipmi.so"
  std::string provider;
};

struct Plan {
  PlanRequest request;
  std::string slurm_version;          // resolved
  std::vector<PackageSpec> packages;  // dependencies before dependents; the root is last
  // Logical dev packages the build image needs (system-origin packages and system dependencies),
  // sorted, and the release's package names for them.
  std::vector<std::string> system_packages;
  std::vector<std::string> system_package_names;
  // Checked in the assembled view after every build (required_plugins.hpp). Not in any hash.
  std::vector<PlannedPlugin> expected_plugins;

  const PackageSpec* find(const std::string& name) const;
  const PackageSpec& root() const { return packages.back(); }
  // The packages to unpack under the prefix when building `name`: its direct dependencies of any
  // type, and everything they link or run against, transitively (source origin only, in plan
  // order).
  std::vector<const PackageSpec*> build_inputs(const std::string& name) const;
  nlohmann::json to_json() const;
};

// Throws ConfigurationError (recipe/toolchain problems, with file:line:col) or UsageError
// (unknown Slurm version, listing the known ones).
Plan make_plan(const RecipeBook& book, const PlanRequest& request);

// Debian-style multiarch triplet for an architecture name ("amd64" -> "x86_64-linux-gnu").
std::string multiarch_triplet(const std::string& arch);

}  // namespace sf
