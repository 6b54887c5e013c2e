// A plugin whose register function adds a factory and then throws: a std::runtime_error, or an int
// when SF_TEST_THROW_INT is defined. The host must survive and keep nothing it registered.
#include <memory>
#include <stdexcept>

#include "slurm_factory/feature.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace {

void register_plugin(sf::Registry& registry) {
  registry.add_feature("should-not-stick", [] { return std::unique_ptr<sf::Feature>(); });
#ifdef SF_TEST_THROW_INT
  throw 42;
#else
  throw std::runtime_error("boom from the test plugin");
#endif
}

}  // namespace

#ifdef SF_TEST_THROW_INT
SLURM_FACTORY_PLUGIN("test-register-throws-int", "0.0.1", "Throws an int", register_plugin)
#else
SLURM_FACTORY_PLUGIN("test-register-throws", "0.0.1", "Throws from register", register_plugin)
#endif
