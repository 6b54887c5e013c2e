// The process environment, read one way by the core and the plugins (implemented in the core
// library, core/src/support/environment.cpp).
#pragma once

#include <optional>
#include <string>

namespace sf {

// The value of the environment variable `name`, or "" when it is not set.
std::string env(const char* name);

// The value of the environment variable `name`, or nullopt when it is not set: an empty value
// ("NAME=") is "", so a caller can tell "set but empty" from "not set".
std::optional<std::string> env_if_set(const char* name);

// The value of the environment variable `name`, or `fallback` when it is not set or empty.
std::string env_or(const char* name, std::string fallback);

}  // namespace sf
