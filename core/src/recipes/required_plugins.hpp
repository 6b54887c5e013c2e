// The check that ends Slurm packaging's most common silent failure: configure quietly builds
// without a plugin (acct_gather_energy_ipmi.so, gpu_nvml.so, ...) when it does not find the
// library's -dev files, with a warning nobody reads. Two sources say what must be there: the
// recipes' expected_plugins (resolved by the planner, Plan::expected_plugins, for every build,
// the base CPU one included) and each feature's Feature::required_slurm_plugins (lib/slurm/). Every
// one must be a regular file (or a link to one) in the assembled view.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "recipes/planner.hpp"

namespace sf {

class Feature;

struct MissingPlugin {
  std::string feature;   // "gpu-cuda"; "" for a recipe's expected plugin
  std::string plugin;    // "gpu_nvml.so", "acct_gather_energy/ipmi"
  std::string file;      // relative to the view: "lib/slurm/acct_gather_energy_ipmi.so"
  std::string provider;  // "libfreeipmi-dev, libipmimonitoring-dev (dev_packages.freeipmi ...)"
};

// The required plugins of `features` that `view`/lib/slurm/ lacks, in feature order.
std::vector<MissingPlugin> missing_required_plugins(const std::filesystem::path& view,
                                                    const std::vector<const Feature*>& features);

// The expected plugins that `view` lacks, in plan order.
std::vector<MissingPlugin> missing_expected_plugins(const std::filesystem::path& view,
                                                    const std::vector<PlannedPlugin>& expected);

// Where the failed build's evidence is, for the error.
struct PluginCheckContext {
  std::string package;         // "slurm 24.11.5"
  std::string log;             // the Slurm build log, or "" when Slurm came from the cache
  std::string entry;           // the cache entry's manifest name
  std::string release_origin;  // where the release's dev_packages are defined
};

// Throws BuildError naming every missing plugin, its file and what provides it, when any of the
// expected or the features' required plugins is not in `view`.
void require_plugins(const std::filesystem::path& view, const std::vector<PlannedPlugin>& expected,
                     const std::vector<const Feature*>& features, const PluginCheckContext& ctx);

}  // namespace sf
