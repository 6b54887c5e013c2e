#include "recipes/recipe_error.hpp"

#include "slurm_factory/errors.hpp"

namespace sf {

void fail_at(const SourceLocation& loc, const std::string& what, const std::string& remediation) {
  throw ConfigurationError(loc.str() + ": " + what, {{"recipe", loc.file}, {"location", loc.str()}},
                           remediation);
}

}  // namespace sf
