// Turns the merged (validated) YAML tree of a Config into its typed fields: expands "~" and
// "${cache_dir}" in paths and URLs, converts free-form settings to JSON, and checks what spans
// several keys (duplicate cache layer names, contradictory signing switches). Errors name the
// origin (file:line:col) and key path of the offending value.
#pragma once

#include "config/config.hpp"

namespace sf::config {

// Fills every typed field of `config` from config.tree (origins and home must be set).
void materialize(Config& config);

// The keys of `layer`'s settings against those its provider type declares (`known`, from the
// plugin: Registry::add_cache_provider_type). An unknown key is a ConfigurationError at its
// file:line:col (key path cache.layers[i].settings.KEY) with a did-you-mean and the valid keys.
void check_layer_settings(const Config& config, const CacheLayerSpec& layer,
                          const std::vector<std::string>& known);

// The file:line:col of cache layer `layer_name`'s settings.`setting` (or of the nearest key that
// has an origin), for errors a provider raises about one of its settings; "" when unknown.
std::string layer_setting_origin(const Config& config, const std::string& layer_name,
                                 const std::string& setting);

// Throws ConfigurationError "<file:line:col>: <what>" (the key path when the value has no
// origin) with context file and key: every error about a value of the merged config.
[[noreturn]] void fail_at_key(const Config& config, const std::string& key_path,
                              const std::string& what, const std::string& remediation);

// "~" / "~/x" -> home/x. Throws ConfigurationError (key path, origin) when home is unknown.
std::string expand_home(const std::string& value, const Config& config,
                        const std::string& key_path);

}  // namespace sf::config
