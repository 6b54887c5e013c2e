// Keys that moved (the schema marks them with `replaced_by`): a layer that still writes one is read
// as if it wrote the new key, and the loader warns with the old key's file:line and the key to
// write instead. When the layer writes both, the new key wins and the warning says so. Layering
// is kept: the old key of a later layer still overrides the new key of an earlier one.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/config_merge.hpp"
#include "config/config_schema.hpp"
#include "config/config_yaml.hpp"

namespace sf::config {

// Called right after merge_layer(tree, origins, layer, schema, source): moves the value of each
// deprecated key of `schema` that `layer` sets from the tree to its new key path (with its origin)
// and appends one warning per such key to `warnings`.
void move_deprecated_keys(YAML::Node& tree, Origins& origins, const YAML::Node& layer,
                          const SchemaNode& schema, const LayerSource& source,
                          std::vector<std::string>& warnings);

// How the new key is written in YAML: "toolchain_families.debian.mirror" ->
// "toolchain_families: {debian: {mirror: ...}}".
std::string flow_yaml_of(const std::string& key_path);

}  // namespace sf::config
