// The settings every OS packager takes (the config's packagers.<name>), checked: they end up in
// package names, versions, file paths and control fields.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sf::pkg {

struct PackageSettings {
  std::string name_prefix = "slurm-factory-";  // package names: <prefix>[<gpu>-]<role>
  std::string install_root;                    // "" = the artifact's (view/ under it)
  std::string revision = "1";  // the package revision (Debian revision, RPM release)
  std::string maintainer = "slurm-factory packager <packages@slurm-factory.invalid>";
  std::string compression;  // one of the packager's
};

// name_prefix, install_root, revision, maintainer and compression (one of `compressions`, the
// first by default; `hint` explains them). Throws ConfigurationError naming
// packagers.<packager>.<key> and what to write.
PackageSettings parse_package_settings(const nlohmann::json& settings, const std::string& packager,
                                       const std::vector<std::string>& compressions,
                                       const std::string& hint);

}  // namespace sf::pkg
