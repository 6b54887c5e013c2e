// Every toolchain release the tool knows: the releases of the loaded family plugins plus the site
// releases of the config (pure YAML bound to a family, optionally `based_on` another release).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {

class PluginHost;

class ToolchainCatalog {
 public:
  ToolchainCatalog();
  ~ToolchainCatalog();
  ToolchainCatalog(ToolchainCatalog&&) noexcept;
  ToolchainCatalog& operator=(ToolchainCatalog&&) noexcept;

  // Adds a family and its releases. Throws PluginError when the family or one of its release
  // names is already known.
  void add_family(std::shared_ptr<const ToolchainFamily> family);

  // Adds the config's site releases, in order: `based_on` may name a plugin release or an earlier
  // site release. Each starts from its base release (or its family's defaults), then its keys
  // apply. Throws ConfigurationError at the release's file:line:column when its family is not
  // loaded, its name is taken, its base is unknown, or a key is unknown or wrong.
  void add_site_releases(const std::vector<SiteToolchain>& site);

  // All releases: plugin releases by family (in the order the families were added), then site
  // releases.
  const std::vector<ToolchainRelease>& releases() const;
  std::vector<std::string> names() const;
  std::vector<std::string> family_names() const;
  bool contains(const std::string& name) const;

  // Throws UsageError naming the valid releases (and the closest one) when `name` is unknown.
  const ToolchainRelease& get(const std::string& name) const;
  const ToolchainFamily& family_of(const std::string& name) const;
  std::shared_ptr<const ToolchainFamily> shared_family_of(const std::string& name) const;

  // The family's setup script and bootstrap recipe for a release.
  std::string setup_script(const std::string& name,
                           const std::vector<std::string>& extra_packages = {}) const;
  std::optional<BootstrapRecipe> bootstrap_recipe(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The catalog of a running tool: the toolchain families of the loaded plugins (in load order), then
// the config's site releases. Throws PluginError / ConfigurationError as add_family and
// add_site_releases do.
ToolchainCatalog make_toolchain_catalog(const PluginHost& host, const Config& config);

}  // namespace sf
