// Reading toolchain release data from YAML, shared by the family plugins' embedded releases.yaml
// (parse_toolchain_releases in the SDK) and the site releases of the config (toolchain_catalog).
// Every error is a ConfigurationError at `file:line:column` with the key path.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "slurm_factory/toolchain.hpp"

namespace sf {

// A whole releases.yaml: the family it describes, its defaults and its releases.
struct ToolchainReleaseFile {
  std::string family;
  ToolchainRelease defaults;
  std::vector<ToolchainRelease> releases;
};

ToolchainReleaseFile parse_toolchain_release_file(std::string_view yaml_text,
                                                  const std::string& origin);

// "file:line:column" (1-based) of a node.
std::string yaml_location(const std::string& file, const YAML::Node& node);

[[noreturn]] void throw_release_yaml_error(const std::string& file, const YAML::Node& node,
                                           const std::string& key_path, const std::string& what,
                                           const std::string& remediation);

// Applies the keys of a release mapping onto `release`: build_tools, dev_packages and gpu_packages
// merge key by key, every other key replaces the value. Keys in `also_allowed` (e.g. "family",
// "based_on" in a site release) are accepted and left to the caller. Unknown keys and wrong types
// are refused.
void apply_toolchain_release_yaml(ToolchainRelease& release, const YAML::Node& node,
                                  const std::string& file, const std::string& key_path,
                                  const std::vector<std::string>& also_allowed = {});

// Refuses a release that misses a value it needs (os_name, gcc_version, glibc_version, a base
// image or a bootstrap recipe, a compiler among the build tools).
void require_complete_release(const ToolchainRelease& release, const YAML::Node& node,
                              const std::string& file, const std::string& key_path);

}  // namespace sf
