#include "toolchains/toolchain_resolution.hpp"

#include <algorithm>

#include "app/app.hpp"
#include "config/config_yaml.hpp"
#include "slurm_factory/errors.hpp"
#include "support/host_arch.hpp"
#include "support/input_validation.hpp"
#include "support/strings.hpp"

namespace sf {
namespace {

// A family under toolchain_families that no loaded plugin provides is a typo or a plugin left out
// of plugins.load: refused, never silently ignored. The embedded default config's entries are
// left alone (a site may load fewer families than it names).
void check_family_settings(const Config& config, const ToolchainCatalog& catalog) {
  const std::vector<std::string> known = catalog.family_names();
  for (const auto& [name, settings] : config.toolchain_families) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const std::string key = "toolchain_families." + name;
    const std::string origin = config.origin_of(key);
    if (origin.empty() || origin == "default") continue;
    const std::string guess = config::did_you_mean(name, known);
    throw ConfigurationError(
        origin + ": " + key + " names a toolchain family no loaded plugin provides" +
            (guess.empty() ? std::string() : " (did you mean '" + guess + "'?)"),
        {{"key", key},
         {"loaded families", known.empty() ? std::string("none") : join(known, ", ")}},
        "write one of the loaded families, or add its plugin (toolchain-" + name +
            ") to plugins.load");
  }
}

}  // namespace

ToolchainRelease release_for_arch(const ToolchainCatalog& catalog, const std::string& toolchain,
                                  const std::string& arch) {
  ToolchainRelease release = catalog.get(toolchain);
  const std::string host = host_arch();
  const std::string target = arch.empty() ? host : arch;
  const auto& known = supported_arches();
  if (std::find(known.begin(), known.end(), target) == known.end()) {
    throw UsageError("unknown architecture '" + printable(target) + "'", {{"option", "--arch"}},
                     "use one of: " + join(known, ", "));
  }
  release.arch = target;
  release.build_arch.clear();
  if (target != host) {
    const auto& cross = release.cross_arches;
    if (std::find(cross.begin(), cross.end(), target) == cross.end()) {
      std::vector<std::string> can;
      for (const auto& name : catalog.names()) {
        const auto& c = catalog.get(name).cross_arches;
        if (std::find(c.begin(), c.end(), target) != c.end()) can.push_back(name);
      }
      throw UsageError(
          "toolchain " + toolchain + " cannot cross-build " + target + " on this " + host + " host",
          {{"toolchain", toolchain}, {"family", release.family}, {"host", host}, {"arch", target}},
          "build on an " + target +
              " host (the same command, without --arch), or use a toolchain "
              "that cross-builds " +
              target + ": " + (can.empty() ? std::string("none is loaded") : join(can, ", ")));
    }
    release.build_arch = host;
  }
  // The target's own dynamic loader is part of every host of it (the data lists the amd64 one).
  if (const std::string loader = dynamic_loader_soname(target);
      !loader.empty() && !is_system_library(release, loader)) {
    release.system_libraries.push_back(loader);
  }
  return release;
}

ResolvedToolchain resolve_toolchain(App& app, const std::string& toolchain,
                                    const std::vector<std::string>& feature_names,
                                    const std::string& arch) {
  ResolvedToolchain r;
  Config& config = app.config();
  PluginHost& host = app.plugins();
  r.catalog = make_toolchain_catalog(host, config);
  check_family_settings(config, r.catalog);
  const ToolchainRelease release = release_for_arch(r.catalog, toolchain, arch);
  std::vector<std::string> extra;
  for (const auto& name : feature_names) {
    auto feature = host.make_feature(name);
    for (const auto& p : feature->image_packages(release)) extra.push_back(p);
    r.features.push_back(std::move(feature));
  }
  std::sort(extra.begin(), extra.end());
  extra.erase(std::unique(extra.begin(), extra.end()), extra.end());
  r.image.release = release;
  r.image.setup_script = r.catalog.family_of(release.name).setup_script(release, extra);
  r.image.extra_packages = extra;
  r.image.bootstrap = r.catalog.bootstrap_recipe(release.name);
  r.image.family = r.catalog.shared_family_of(release.name);
  if (const auto f = config.toolchain_families.find(release.family);
      f != config.toolchain_families.end()) {
    r.image.mirror = f->second.mirror;
  }
  r.image.cache_dir = config.cache_dir;
  r.image_hash = toolchain_image_hash(r.image);
  r.build_network = config.build.network;
  return r;
}

}  // namespace sf
