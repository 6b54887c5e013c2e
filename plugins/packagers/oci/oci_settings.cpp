#include "oci_settings.hpp"

#include <algorithm>
#include <cctype>

#include "slurm_factory/errors.hpp"

namespace sf::oci {
namespace {

[[noreturn]] void refuse(const std::string& key, const std::string& what, const std::string& fix) {
  const std::string where = "packagers.oci." + key;
  throw ConfigurationError(where + ": " + what, {{"setting", where}}, fix);
}

}  // namespace

OciSettings parse_oci_settings(const nlohmann::json& settings) {
  OciSettings out;
  nlohmann::json common = nlohmann::json::object();
  if (settings.is_object()) {
    for (const auto& [k, v] : settings.items()) {
      if (k == "registry") {
        if (!v.is_string()) refuse(k, "must be a string", "write registry: 127.0.0.1:5000/slurm");
        out.registry = v.get<std::string>();
      } else if (k == "plain_http") {
        if (!v.is_boolean()) refuse(k, "must be true or false", "write plain_http: false");
        out.plain_http = v.get<bool>();
      } else if (k == "roles") {
        if (!v.is_array()) refuse(k, "must be a list", "write roles: [slurmctld, slurmd, login]");
        for (const auto& r : v) {
          const std::string name = r.is_string() ? r.get<std::string>() : r.dump();
          if (std::find(kRoles.begin(), kRoles.end(), name) == kRoles.end()) {
            refuse(k, "unknown role '" + name + "'",
                   "use slurmctld, slurmd, slurmdbd, slurmrestd and login");
          }
        }
        for (const char* known : kRoles) {
          if (std::find(v.begin(), v.end(), known) != v.end()) out.roles.emplace_back(known);
        }
        if (out.roles.empty()) refuse(k, "names no image", "list at least one role");
      } else if (k == "compression_level") {
        if (!v.is_number_integer() || v.get<int>() < 1 || v.get<int>() > 9) {
          refuse(k, "must be a number from 1 to 9", "write compression_level: 6");
        }
        out.compression_level = v.get<int>();
      } else {
        common[k] = v;
      }
    }
  } else if (!settings.is_null()) {
    refuse("", "must be a mapping", "write packagers: {oci: {registry: HOST/NAMESPACE}}");
  }
  out.package = pkg::parse_package_settings(
      common, "oci", {"gzip"},
      "image layers are gzip-compressed (what every docker and podman reads)");
  if (out.roles.empty()) out.roles.assign(kRoles.begin(), kRoles.end());
  return out;
}

std::string image_tag(const std::string& slurm_version, const std::string& toolchain,
                      const std::vector<std::string>& gpu, const std::string& arch,
                      const std::string& revision) {
  std::string tag = slurm_version + "-" + toolchain;
  for (const auto& g : gpu) tag += "-" + g;
  tag += "-" + arch;
  if (revision != "1") tag += "-r" + revision;
  // A tag is [A-Za-z0-9_.-], at most 128 characters: a revision's '+' or '~' becomes '_'.
  for (char& c : tag) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '.' && c != '-') {
      c = '_';
    }
  }
  if (tag.size() > 128) tag.resize(128);
  return tag;
}

}  // namespace sf::oci
