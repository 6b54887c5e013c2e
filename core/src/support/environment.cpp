#include "support/environment.hpp"

#include <cstdlib>

namespace sf {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

}  // namespace sf
