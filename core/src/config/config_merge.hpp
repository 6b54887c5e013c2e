// Layering: merges one validated config layer into the merged tree and records where each value
// came from. Fixed mappings (plugins, cache, signing, build) merge key by key; named entries
// (toolchains.NAME, backends.NAME) replace the whole entry; lists and scalars replace. The root key
// `profiles` is skipped here (config_profiles.hpp collects it).
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>

#include "config/config_schema.hpp"
#include "config/config_yaml.hpp"

namespace sf::config {

using Origins = std::map<std::string, std::string>;

void merge_layer(YAML::Node& tree, Origins& origins, const YAML::Node& layer,
                 const SchemaNode& schema, const LayerSource& source);

// Drops the origins of `key_path` and of everything under it.
void erase_origins_under(Origins& origins, const std::string& key_path);
// Records `source`'s origin for `value` at `key_path` and for every node under it.
void record_origins(Origins& origins, const YAML::Node& value, const std::string& key_path,
                    const LayerSource& source);

}  // namespace sf::config
