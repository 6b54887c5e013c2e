// The process environment: slurm_factory/environment.hpp (the SDK's, so plugins share it).
#include "slurm_factory/environment.hpp"

#include <cstdlib>

namespace sf {

std::string env(const char* name) { return env_if_set(name).value_or(std::string()); }

std::optional<std::string> env_if_set(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string env_or(const char* name, std::string fallback) {
  std::string v = env(name);
  return v.empty() ? fallback : v;
}

}  // namespace sf
