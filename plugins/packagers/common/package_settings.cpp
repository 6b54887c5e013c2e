#include "package_settings.hpp"

#include <algorithm>
#include <regex>

#include "slurm_factory/errors.hpp"

namespace sf::pkg {

namespace {

[[noreturn]] void refuse(const std::string& packager, const std::string& key,
                         const std::string& what, const std::string& fix) {
  const std::string where = "packagers." + packager + (key.empty() ? "" : "." + key);
  throw ConfigurationError(where + ": " + what, {{"setting", where}}, fix);
}

std::string setting(const nlohmann::json& s, const std::string& packager, const std::string& key,
                    const std::string& dflt) {
  if (!s.is_object() || !s.contains(key)) return dflt;
  if (s[key].is_number_integer()) return std::to_string(s[key].get<long long>());
  if (!s[key].is_string()) {
    refuse(packager, key, "must be a string", "write e.g. " + key + ": " + dflt);
  }
  return s[key].get<std::string>();
}

}  // namespace

PackageSettings parse_package_settings(const nlohmann::json& s, const std::string& packager,
                                       const std::vector<std::string>& compressions,
                                       const std::string& hint) {
  static const std::vector<std::string> known{"name_prefix", "install_root", "revision",
                                              "maintainer", "compression"};
  if (!s.is_null() && !s.is_object()) {
    refuse(packager, "", "must be a mapping", "write packagers: {" + packager + ": {}}");
  }
  if (s.is_object()) {
    for (const auto& [k, v] : s.items()) {
      if (std::find(known.begin(), known.end(), k) == known.end()) {
        refuse(packager, k, "unknown setting",
               "use name_prefix, install_root, revision, maintainer or compression");
      }
    }
  }
  PackageSettings d;
  d.name_prefix = setting(s, packager, "name_prefix", d.name_prefix);
  if (!std::regex_match(d.name_prefix, std::regex("([a-z0-9][a-z0-9.+-]*-)?")) ||
      d.name_prefix.size() > 40) {
    refuse(packager, "name_prefix", "'" + d.name_prefix + "' cannot start a package name",
           "use lower-case letters, digits, '.', '+' and '-', ending in '-' (slurm-factory-)");
  }
  d.install_root = setting(s, packager, "install_root", "");
  if (!d.install_root.empty() &&
      (!std::regex_match(d.install_root, std::regex("(/[A-Za-z0-9._+-]+)+")) ||
       d.install_root.find("/..") != std::string::npos ||
       d.install_root.find("/./") != std::string::npos)) {
    refuse(packager, "install_root", "'" + d.install_root + "' is not a plain absolute folder",
           "write e.g. install_root: /opt/slurm (the view goes to /opt/slurm/view)");
  }
  d.revision = setting(s, packager, "revision", d.revision);
  if (!std::regex_match(d.revision, std::regex("[0-9][A-Za-z0-9.+~]{0,30}"))) {
    refuse(packager, "revision", "'" + d.revision + "' is not a package revision",
           "write a number such as revision: 2 (raise it for a rebuild of the same Slurm)");
  }
  d.maintainer = setting(s, packager, "maintainer", d.maintainer);
  if (!std::regex_match(d.maintainer, std::regex("[^<>\\n%]{1,80} <[^<>@\\s%]+@[^<>@\\s%]+>"))) {
    refuse(packager, "maintainer", "'" + d.maintainer + "' is not 'Name <address>'",
           "write e.g. maintainer: HPC team <hpc@example.org>");
  }
  d.compression = setting(s, packager, "compression", compressions.front());
  if (std::find(compressions.begin(), compressions.end(), d.compression) == compressions.end()) {
    refuse(packager, "compression", "unknown compression '" + d.compression + "'", hint);
  }
  return d;
}

}  // namespace sf::pkg
