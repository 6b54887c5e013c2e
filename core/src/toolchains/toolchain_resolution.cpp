#include "toolchains/toolchain_resolution.hpp"

#include <algorithm>

#include "app/app.hpp"

namespace sf {

ResolvedToolchain resolve_toolchain(App& app, const std::string& toolchain,
                                    const std::vector<std::string>& feature_names) {
  ResolvedToolchain r;
  Config& config = app.config();
  PluginHost& host = app.plugins();
  r.catalog = make_toolchain_catalog(host, config);
  const ToolchainRelease& release = r.catalog.get(toolchain);
  std::vector<std::string> extra;
  for (const auto& name : feature_names) {
    auto feature = host.make_feature(name);
    for (const auto& p : feature->image_packages(release)) extra.push_back(p);
    r.features.push_back(std::move(feature));
  }
  std::sort(extra.begin(), extra.end());
  extra.erase(std::unique(extra.begin(), extra.end()), extra.end());
  r.image.release = release;
  r.image.setup_script = r.catalog.setup_script(release.name, extra);
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
