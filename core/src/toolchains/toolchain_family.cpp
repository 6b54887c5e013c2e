// The shared behaviour of toolchain families: defaults of the ToolchainFamily interface, the
// package set of a release, and the data-driven family every shipped toolchain plugin builds on
// from its embedded releases.yaml. Nothing here knows a package manager: the families do.
#include <fnmatch.h>

#include <set>

#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"
#include "toolchains/toolchain_release_yaml.hpp"

namespace sf {

std::string to_string(PackageManager pm) {
  switch (pm) {
    case PackageManager::kApt:
      return "apt";
    case PackageManager::kDnf:
      return "dnf";
  }
  return "unknown";
}

bool is_system_library(const ToolchainRelease& release, const std::string& soname) {
  for (const auto& pattern : release.system_libraries) {
    if (pattern == soname || ::fnmatch(pattern.c_str(), soname.c_str(), 0) == 0) return true;
  }
  return false;
}

bool is_cross_build(const ToolchainRelease& release) {
  return !release.build_arch.empty() && release.build_arch != release.arch;
}

ToolchainRelease ToolchainFamily::release_defaults() const {
  ToolchainRelease r;
  r.family = name();
  return r;
}

std::vector<std::string> setup_packages(const ToolchainRelease& release,
                                        const std::vector<std::string>& extra_packages) {
  std::set<std::string> all;
  for (const auto& [tool, pkgs] : release.build_tools) all.insert(pkgs.begin(), pkgs.end());
  for (const auto& [lib, pkgs] : release.dev_packages) all.insert(pkgs.begin(), pkgs.end());
  all.insert(extra_packages.begin(), extra_packages.end());
  return {all.begin(), all.end()};
}

std::string ToolchainFamily::setup_script(
    const ToolchainRelease& release, const std::vector<std::string>& /*extra_packages*/) const {
  throw PluginError(
      "toolchain family '" + name() + "' cannot set up a build image for " + release.name +
          ": its plugin renders no setup script",
      {{"family", name()}, {"toolchain", release.name}, {"origin", release.origin}},
      "the family's plugin must override ToolchainFamily::setup_script, e.g. by building its "
      "family on sf::AptToolchainFamily (header sf_toolchain/apt.hpp, CMake target "
      "SlurmFactory::toolchain-apt) instead of sf::DataDrivenToolchainFamily");
}

std::optional<RootfsBootstrap> ToolchainFamily::rootfs_bootstrap(
    const BootstrapRecipe& /*recipe*/, const std::string& /*arch*/, const std::string& /*tarball*/,
    const std::string& /*work_dir*/) const {
  return std::nullopt;
}

std::vector<std::string> ToolchainFamily::setup_packages(
    const ToolchainRelease& release, const std::vector<std::string>& extra_packages) const {
  return sf::setup_packages(release, extra_packages);
}

std::optional<BootstrapRecipe> ToolchainFamily::bootstrap_recipe(
    const ToolchainRelease& release) const {
  return release.bootstrap;
}

DataDrivenToolchainFamily::DataDrivenToolchainFamily(std::string name,
                                                     std::string_view releases_yaml,
                                                     std::string origin)
    : name_(std::move(name)) {
  auto file = parse_toolchain_release_file(releases_yaml, origin);
  if (file.family != name_) {
    throw ConfigurationError(
        origin + ": the releases file describes family '" + file.family +
            "' but the plugin registers family '" + name_ + "'",
        {{"file", origin}, {"family", name_}},
        "make `family:` in the releases file and the registered family name the same");
  }
  defaults_ = std::move(file.defaults);
  releases_ = std::move(file.releases);
}

DataDrivenToolchainFamily::~DataDrivenToolchainFamily() = default;

std::string DataDrivenToolchainFamily::name() const { return name_; }

std::vector<ToolchainRelease> DataDrivenToolchainFamily::releases() const { return releases_; }

ToolchainRelease DataDrivenToolchainFamily::release_defaults() const { return defaults_; }

}  // namespace sf
