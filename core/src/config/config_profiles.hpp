// Named profiles (`profiles: {laptop: {...}, ci: {...}, site: {...}}`): collected from every config
// layer, then the selected one (--profile NAME or SLURM_FACTORY_PROFILE) is merged over the files.
// A profile defined in several files is merged in file order.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/config_merge.hpp"
#include "config/config_yaml.hpp"

namespace sf::config {

class ProfileSet {
 public:
  // Adds the `profiles:` mapping of one (validated) layer.
  void add(const YAML::Node& profiles, const LayerSource& source);
  // The defined profile names, sorted, each once.
  std::vector<std::string> names() const;
  bool has(const std::string& name) const;
  // Merges profile `name` into the tree; origins get " (profile NAME)". `selected_by` names where
  // the choice came from ("--profile", "env SLURM_FACTORY_PROFILE"). Throws ConfigurationError
  // listing the defined profiles when `name` is not one of them. Deprecated keys the profile sets
  // are moved to their new keys, with a warning each in `warnings` (config_deprecated.hpp).
  void apply(const std::string& name, const std::string& selected_by, YAML::Node& tree,
             Origins& origins, std::vector<std::string>& warnings) const;

 private:
  struct Definition {
    std::string name;
    YAML::Node node;
    LayerSource source;
  };
  std::vector<Definition> definitions_;
};

}  // namespace sf::config
