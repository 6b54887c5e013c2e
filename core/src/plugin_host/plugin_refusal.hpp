// Wording shared by the plugin host's refusals (plugin_host.cpp, plugin_file_checks.cpp,
// plugin_descriptor.cpp).
#pragma once

#include <string>

namespace sf::plugin_refusal {

inline std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

// The end of every remediation: the user can always drop the plugin.
inline const std::string kRemoveHint = "or remove it from plugins.load in your config";

}  // namespace sf::plugin_refusal
