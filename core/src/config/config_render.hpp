// `config show`: the merged config as the YAML keys name it, each value with its origin, secrets
// redacted (environment-variable NAMES and file paths are shown; key material, passwords in URLs
// and secret-looking settings are not).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace sf::config {

inline constexpr const char* kRedacted = "<redacted>";

// The typed config as JSON keyed like the YAML (cache_dir, plugins.load, cache.layers, ...),
// redacted.
nlohmann::json config_values(const Config& config);

// Every leaf of config_values() as (key path, value), in key order.
std::vector<std::pair<std::string, nlohmann::json>> flatten(const nlohmann::json& values);

// {"profile": ..., "profiles": [...], "values": {...}, "origins": {leaf key path: origin}}
nlohmann::json render_config_json(const Config& config);

// One line per leaf: "build.jobs = 0    # default".
std::string render_config_text(const Config& config);

}  // namespace sf::config
