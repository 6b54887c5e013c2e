// Turns the merged (validated) YAML tree of a Config into its typed fields: expands "~" and
// "${cache_dir}" in paths and URLs, converts free-form settings to JSON, and checks what spans
// several keys (duplicate cache layer names, contradictory signing switches). Errors name the
// origin (file:line:col) and key path of the offending value.
#pragma once

#include "slurm_factory/core/config.hpp"

namespace sf::config {

// Fills every typed field of `config` from config.tree (origins and home must be set).
void materialize(Config& config);

// "~" / "~/x" -> home/x. Throws ConfigurationError (key path, origin) when home is unknown.
std::string expand_home(const std::string& value, const Config& config,
                        const std::string& key_path);

}  // namespace sf::config
