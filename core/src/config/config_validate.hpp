// Checks one YAML layer against the schema (config_schema.hpp) and throws a ConfigurationError
// whose context has the file:line:column and the key path ("cache.layers[1].tyep"), with a
// did-you-mean suggestion for unknown keys. It also refuses secrets written into the config (keys
// and passphrases are named by file path or environment-variable name only).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "config/config_schema.hpp"
#include "config/config_yaml.hpp"

namespace sf::config {

// Checks `node` (the value at `key_path`) against `schema`. Null values mean "not set here".
// Throws ConfigurationError with context file (file:line:col) and key (the key path).
void validate(const YAML::Node& node, const SchemaNode& schema, const std::string& key_path,
              const LayerSource& source);

}  // namespace sf::config
