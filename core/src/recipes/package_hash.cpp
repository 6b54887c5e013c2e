#include "recipes/package_hash.hpp"

#include "recipes/planner.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {

nlohmann::json canonical_description(const PackageSpec& spec) {
  nlohmann::json d;
  d["schema"] = kPackageHashSchema;
  d["name"] = spec.name;
  d["version"] = spec.version;
  d["origin"] = to_string(spec.origin);
  d["prefix"] = spec.prefix;
  d["toolchain"] = {{"family", spec.toolchain.family},
                    {"release", spec.toolchain.release},
                    {"arch", spec.toolchain.arch},
                    {"image_hash", spec.toolchain.image_hash}};
  d["features"] = spec.features;
  nlohmann::json deps = nlohmann::json::array();
  for (const auto& dep : spec.dependencies) {
    nlohmann::json types = nlohmann::json::array();
    for (auto t : dep.types) types.push_back(to_string(t));
    deps.push_back({{"name", dep.name}, {"types", types}, {"hash", dep.hash}});
  }
  d["dependencies"] = deps;
  if (spec.origin == Origin::kSystem) {
    d["system_package"] = {{"name", spec.system_package},
                           {"packages", spec.system_package_names},
                           {"prefix", spec.system_prefix}};
    return d;
  }
  d["source_sha256"] = spec.source.sha256;
  d["build_system"] = to_string(spec.build_system);
  d["autoreconf"] = spec.autoreconf;
  d["configure_command"] = spec.configure_command;
  // Only present when set, so that the hashes of every other package are unchanged.
  if (!spec.make_shell.empty()) d["make_shell"] = spec.make_shell;
  d["configure"] = spec.configure_args;
  d["build"] = spec.build_args;
  d["install"] = spec.install_args;
  // Only present when used, so that the hashes of every other package are unchanged.
  if (!spec.extra_install.empty()) d["extra_install"] = spec.extra_install;
  d["env"] = spec.env;
  nlohmann::json patches = nlohmann::json::array();
  for (const auto& p : spec.patches) {
    patches.push_back({{"file", p.file}, {"sha256", p.sha256}, {"strip", p.strip}});
  }
  d["patches"] = patches;
  d["system_dependencies"] = spec.system_dependencies;
  // Only present when true, so that every hermetic (default) hash is unchanged.
  if (spec.build_network) d["build_network"] = true;
  return d;
}

std::string package_hash(const nlohmann::json& description) {
  // nlohmann::json keeps object keys sorted; dump() without indent has no whitespace. Non-ASCII is
  // escaped so the bytes do not depend on how a string was encoded.
  return sha256_hex(description.dump(-1, ' ', true));
}

}  // namespace sf
