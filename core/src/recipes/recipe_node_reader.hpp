// Reading the nodes of a recipe YAML: each value checked where it is read, and every failure a
// ConfigurationError at the node's file:line:column with what to do. The recipe parser builds on
// it (recipe_parser.cpp); this is the part that knows YAML nodes, not recipes.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>
#include <vector>

#include "recipes/recipe.hpp"
#include "recipes/version_range.hpp"
#include "slurm_factory/errors.hpp"
#include "support/input_validation.hpp"

namespace sf {

inline constexpr const char* kRecipeDocs =
    "see the recipe format in core/src/recipes/recipe_parser.hpp";

class RecipeNodeReader {
 public:
  // `origin`: the recipe's file (or name), the file of every location.
  explicit RecipeNodeReader(std::string origin) : origin_(std::move(origin)) {}

  const std::string& origin() const { return origin_; }
  // Where `n` is (line 0 when the node has no mark).
  SourceLocation at(const YAML::Node& n) const;
  [[noreturn]] void fail(const YAML::Node& n, const std::string& what,
                         std::string remediation = kRecipeDocs) const;

  // `map` is a mapping whose keys are all in `allowed`, none twice.
  void check_keys(const YAML::Node& map, const std::set<std::string>& allowed,
                  const std::string& where) const;
  std::string scalar(const YAML::Node& n, const std::string& what) const;
  // A string, or a list of strings.
  std::vector<std::string> scalar_list(const YAML::Node& n, const std::string& what) const;
  // `value` when it is a valid `kind`.
  std::string checked(const YAML::Node& n, InputKind kind, const std::string& value,
                      const std::string& what) const;
  // 64 lowercase hexadecimal characters.
  std::string sha256(const YAML::Node& n) const;
  VersionRange range(const YAML::Node& n, const std::string& what) const;
  // A `when:` condition.
  Condition condition(const YAML::Node& n) const;
  // `text` uses only the variables allowed in arguments and env values, and never asks for
  // immediate binding.
  void check_variables(const YAML::Node& n, const std::string& text) const;
  // A string, or a list of strings and {<value_key>, when} mappings.
  std::vector<ConditionalString> conditional_strings(const YAML::Node& n, const std::string& what,
                                                     const std::string& value_key) const;
  // `value` when it is a relative path of plain components (no "..", no leading '/').
  std::string relative_path(const YAML::Node& n, const std::string& value, const std::string& what,
                            const std::string& remediation) const;

 private:
  std::string origin_;
};

}  // namespace sf
