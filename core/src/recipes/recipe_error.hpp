// The error a recipe problem raises: a ConfigurationError whose message starts with the place in
// the recipe ("configs/recipes/slurm.yaml:12:5: ...") and whose context names the recipe file and
// that place. Used by the parser, the recipe book and the planner.
#pragma once

#include <string>

#include "recipes/recipe.hpp"

namespace sf {

// Throws ConfigurationError("<loc>: <what>", {recipe: loc.file, location: loc}, remediation).
[[noreturn]] void fail_at(const SourceLocation& loc, const std::string& what,
                          const std::string& remediation);

}  // namespace sf
