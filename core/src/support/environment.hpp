// The process environment, read the one way the core reads it.
#pragma once

#include <string>

namespace sf {

// The value of the environment variable `name`, or "" when it is not set.
std::string env(const char* name);

}  // namespace sf
