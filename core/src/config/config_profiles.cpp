#include "config/config_profiles.hpp"

#include <algorithm>

#include "config/config_deprecated.hpp"
#include "config/config_schema.hpp"
#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"

namespace sf::config {

void ProfileSet::add(const YAML::Node& profiles, const LayerSource& source) {
  if (!profiles.IsDefined() || !profiles.IsMap()) return;
  for (const auto& kv : profiles) {
    definitions_.push_back({kv.first.Scalar(), kv.second, source});
  }
}

std::vector<std::string> ProfileSet::names() const {
  std::vector<std::string> out;
  for (const auto& d : definitions_) {
    if (std::find(out.begin(), out.end(), d.name) == out.end()) out.push_back(d.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool ProfileSet::has(const std::string& name) const {
  return std::any_of(definitions_.begin(), definitions_.end(),
                     [&](const Definition& d) { return d.name == name; });
}

void ProfileSet::apply(const std::string& name, const std::string& selected_by, YAML::Node& tree,
                       Origins& origins, std::vector<std::string>& warnings) const {
  if (!has(name)) {
    const auto defined = names();
    std::string list = join(defined, ", ");
    std::string hint;
    if (defined.empty()) {
      hint = "no profiles are defined: add 'profiles: {" + name +
             ": {...}}' to a config file, or drop the profile selection";
    } else {
      const std::string guess = did_you_mean(name, defined);
      hint = (guess.empty() ? std::string() : "did you mean '" + guess + "'? ") +
             "defined profiles: " + list;
    }
    throw ConfigurationError("unknown profile '" + name + "'",
                             {{"profile", name},
                              {"selected by", selected_by},
                              {"defined profiles", defined.empty() ? "(none)" : list}},
                             hint);
  }
  for (const auto& d : definitions_) {
    if (d.name != name) continue;
    LayerSource source = d.source;
    source.suffix = " (profile " + name + ")";
    merge_layer(tree, origins, d.node, profile_schema(), source);
    move_deprecated_keys(tree, origins, d.node, profile_schema(), source, warnings);
  }
}

}  // namespace sf::config
