// Plan-time check of the versions a plan's packages are used in against the recipes'
// version_constraints (pmix: the PMIx majors each Slurm series' configure accepts). The version a
// package is used in is its recipe version for `from: source` and the release's system_version for
// `from: system` (unknown: not checked).
#pragma once

#include <string>

#include "recipes/planner.hpp"
#include "recipes/recipe_book.hpp"

namespace sf {

// The version `spec` is used in ("" when from: system and the recipe records none for the release).
std::string effective_version(const Recipe& recipe, const PackageSpec& spec);

// Throws ConfigurationError for the first package whose version a holding constraint excludes:
// names the Slurm series, the package version and where it comes from, the constraint (file:line),
// and what to do (another origin or version that fits, or another Slurm series).
void check_version_constraints(const RecipeBook& book, const Plan& plan);

}  // namespace sf
