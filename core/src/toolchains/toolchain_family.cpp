// The shared behaviour of toolchain families: defaults of the ToolchainFamily interface and the
// data-driven family every shipped toolchain plugin instantiates from its embedded releases.yaml.
#include <fnmatch.h>

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

ToolchainRelease ToolchainFamily::release_defaults() const {
  ToolchainRelease r;
  r.family = name();
  return r;
}

std::string ToolchainFamily::setup_script(const ToolchainRelease& release,
                                          const std::vector<std::string>& extra_packages) const {
  return render_setup_script(release, extra_packages);
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
