// The recipe model: how one package (slurm, munge, json-c, ...) is fetched and built. Recipes are
// YAML files under configs/recipes/ (see recipe_parser.hpp and docs); this header is the parsed
// form. Everything that can differ by Slurm version, feature or toolchain is a `when:` condition.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recipes/version_range.hpp"

namespace sf {

// Where a recipe item was written: "configs/recipes/slurm.yaml:12:5".
struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string str() const;
};

enum class BuildSystem { kAutotools, kCmake, kMeson, kMake };
std::string to_string(BuildSystem b);
std::optional<BuildSystem> parse_build_system(const std::string& s);

// build: needed while building the dependent only (staged under the prefix, not in the view);
// link: needed to build and at run time; run: needed at run time only.
enum class DependencyType { kBuild, kLink, kRun };
std::string to_string(DependencyType t);
std::optional<DependencyType> parse_dependency_type(const std::string& s);

// Built from the recipe and bundled, or taken from the toolchain release's -dev package.
enum class Origin { kSource, kSystem };
std::string to_string(Origin o);
std::optional<Origin> parse_origin(const std::string& s);

// What a condition is evaluated against (filled by the planner).
struct ConditionContext {
  std::string slurm_version;            // resolved, e.g. "24.11.5"
  std::string package_version;          // the recipe's own selected version
  std::vector<std::string> features;    // "gpu-cuda", ...
  std::string family;                   // "debian"
  std::string release;                  // "trixie"
  std::string arch;                     // "amd64"
  std::vector<std::string> system_has;  // the release's dev_packages keys
};

// All present keys must hold. An empty condition is always true. Lists mean "any of".
struct Condition {
  std::optional<VersionRange> slurm;     // Slurm version range
  std::optional<VersionRange> version;   // this recipe's version range
  std::vector<std::string> feature;      // any of these features requested
  std::vector<std::string> not_feature;  // none of these features requested
  std::vector<std::string> family;       // toolchain family any of
  std::vector<std::string> release;      // toolchain release any of
  std::vector<std::string> arch;
  std::vector<std::string> system_has;  // the release has a dev package for each of these
  SourceLocation where;

  bool empty() const;
  bool holds(const ConditionContext& ctx) const;
};

// A string (argument, env value) that applies only when its condition holds.
struct ConditionalString {
  std::string value;
  Condition when;
  SourceLocation where;
};

struct RecipeVersion {
  std::string version;
  std::string sha256;                // of the source archive, 64 lowercase hex
  std::string filename;              // the archive's file name in the source cache
  std::vector<std::string> mirrors;  // in order: upstream first, then distribution mirrors
  std::string strip_dir;             // top folder inside the archive ("" = detect)
  // The version's own make_shell (replaces the recipe's; "" = configure's shell).
  std::optional<std::string> make_shell;
  SourceLocation where;
};

struct Patch {
  std::string file;  // relative to the recipe's directory
  std::string sha256;
  int strip = 1;  // patch -p
  // Compiled-in paths, relative to the build prefix ("lib/slurm", "sbin", "bin/srun"), that the
  // patched program falls back from to a location relative to its own executable (or library)
  // when the compiled-in one does not exist: provenance records them as handled by this patch.
  std::vector<std::string> relocates;
  Condition when;
  SourceLocation where;
};

struct Dependency {
  std::string name;
  std::vector<DependencyType> types;  // at least one
  Condition when;
  SourceLocation where;
};

// What versions of this package a build may use, when a condition holds (the Slurm series that
// depends on it: "Slurm 22.05 builds mpi/pmix against PMIx v2 to v5 only"). Checked at plan
// time against the version the plan uses (the recipe's for `from: source`, the release's
// system_version for `from: system`).
struct VersionConstraint {
  VersionRange versions;
  Condition when;
  std::string why;  // one sentence naming where the limit comes from
  SourceLocation where;
};

// A file the assembled view must hold after a build of this recipe (a Slurm plugin, a contrib
// library): configure skips what it does not find with a warning only, so the build checks.
struct ExpectedPlugin {
  std::string plugin;       // "acct_gather_energy/ipmi", "contribs/pmi2"
  std::string file;         // relative to the view: "lib/slurm/acct_gather_energy_ipmi.so"
  std::string provided_by;  // a dependency recipe or a dev_packages key; "" = the recipe itself
  Condition when;
  SourceLocation where;
};

struct Recipe {
  std::string name;
  std::string description;
  std::string homepage;
  std::string license;
  BuildSystem build_system = BuildSystem::kAutotools;
  std::vector<RecipeVersion> versions;
  std::string default_version;  // "" = newest
  // The logical -dev package name in ToolchainRelease::dev_packages ("munge", "ssl", ...) used
  // when the origin is `system`; "" if the recipe cannot come from the system.
  std::string system_package;
  // Origin per toolchain family ("default", "debian", "rocky", or "family/release").
  std::map<std::string, Origin> from;
  // Where a `system` origin installs the library, for ${dep:NAME} (same keys as `from`; default
  // "/usr"). Variables allowed (${multiarch}).
  std::map<std::string, std::string> system_prefix;
  // Sonames that dependents dlopen at run time (no NEEDED entry names them: Slurm's mpi_pmix
  // dlopens libpmix.so.2). The view must provide them: for a `system` origin the view assembler
  // bundles them out of the build image with their NEEDED closure.
  std::vector<std::string> runtime_dlopen;
  // Which of the programs the package installs in bin/ and sbin/ go into the view (and so onto
  // the user's PATH when the module is loaded): globs on the file name; {"*"} for `all`, empty for
  // `none`. Unset: all for the plan's root (Slurm), none for a dependency (its curl, openssl or
  // lstopo must not shadow the system's). The others, and the man pages of a package with no
  // public program, are left out of the view. Not a build input: the cache entry holds every
  // program either way.
  std::optional<std::vector<std::string>> public_programs;
  // The version a `from: system` origin provides, per toolchain (same keys as `from`): what the
  // release's -dev package ships ("debian/bookworm": "4.2.2"). Unset: unknown, not checked.
  std::map<std::string, std::string> system_version;
  std::vector<VersionConstraint> version_constraints;
  // Autotools: run `autoreconf -fi` first (sources without a generated configure script).
  bool autoreconf = false;
  // Incremental rebuilds (build_tree_store.hpp): the build tree of the last build of this package
  // on the same image, with the same inputs but the source, is reused, so make redoes only what a
  // new patch release or patch changed. Only for build systems whose make tracks every header
  // (automake's dependency tracking). Not a build input: the result is the same either way.
  bool incremental = false;
  // The shell make runs its recipes and libtool with ("dash": /bin/dash), when the image has it;
  // the Makefiles' own (configure's choice, often bash) otherwise. libtool runs hundreds of
  // times in a Slurm build and starts much faster under dash. Part of the package hash.
  std::string make_shell;
  // The configure step's program ("" = the build system's: ./configure, cmake, meson setup).
  std::string configure_command;
  std::vector<Dependency> dependencies;
  // Logical dev packages that must be in the build image (no recipe of ours): "pam", "readline".
  std::vector<ConditionalString> system_dependencies;
  std::vector<ConditionalString> configure_args;
  std::vector<ConditionalString> build_args;
  std::vector<ConditionalString> install_args;
  // Autotools/make only: one more `make DESTDIR=<stage> ARGS...` run per entry, in the source tree,
  // after the install step (whitespace-separated arguments: "-C contribs/pmi2 install").
  std::vector<ConditionalString> extra_install;
  std::vector<ExpectedPlugin> expected_plugins;
  std::map<std::string, std::vector<ConditionalString>> env;  // joined with ' ' when set
  std::vector<Patch> patches;
  SourceLocation where;  // the file (line 1)

  const RecipeVersion* find_version(const std::string& v) const;
  std::vector<std::string> version_names() const;
  // The origin for a family/release: "family/release" key, then "family", then "default", then
  // source.
  Origin origin_for(const std::string& family, const std::string& release) const;
  // The system_prefix for a family/release, looked up like origin_for; "/usr" when unset.
  std::string system_prefix_for(const std::string& family, const std::string& release) const;
  // The system_version for a family/release, looked up like origin_for; "" when unknown.
  std::string system_version_for(const std::string& family, const std::string& release) const;
};

}  // namespace sf
