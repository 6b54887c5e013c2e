// The set of recipes the planner draws from: every configs/recipes/*.yaml, checked as a whole.
// Besides each file's own checks (recipe_parser.hpp) the book rejects, citing file:line:col: a
// dependency on a recipe that does not exist, a dependency cycle, a ${dep:NAME} that names no
// declared dependency, a file whose name differs from its recipe's name, and a patch file that is
// missing or whose sha256 differs from the pin.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "recipes/recipe.hpp"

namespace sf {

class RecipeBook {
 public:
  RecipeBook() = default;
  // Validates the set (dependencies, cycles, variables). `dir` resolves patch files ("" = none).
  explicit RecipeBook(std::vector<Recipe> recipes, std::filesystem::path dir = {});

  // Loads every *.yaml in `dir`. Throws ConfigurationError.
  static RecipeBook load_directory(const std::filesystem::path& dir);
  // The shipped recipes: $SLURM_FACTORY_RECIPE_DIR, else <data dir>/configs/recipes (the install
  // layout next to the core library), else the source tree's configs/recipes.
  static std::filesystem::path default_directory();

  const Recipe* find(const std::string& name) const;
  // Throws ConfigurationError naming the known recipes.
  const Recipe& get(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::filesystem::path& directory() const { return dir_; }
  size_t size() const { return recipes_.size(); }

 private:
  void validate() const;
  std::map<std::string, Recipe> recipes_;
  std::filesystem::path dir_;
};

}  // namespace sf
