// Golden files: SF_UPDATE_GOLDEN=1 rewrites them (after review of the diff); any other value,
// unset, or CI (CI=true) compares, so a stray variable can never turn a comparison into a rewrite.
#pragma once

#include <cstdlib>
#include <string>

#include "requirement.hpp"

namespace sf::test {

inline bool update_golden_files() {
  const char* v = std::getenv("SF_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1" && !missing_requirement_is_failure();
}

}  // namespace sf::test
