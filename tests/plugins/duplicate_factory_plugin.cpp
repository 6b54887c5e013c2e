// Registers toolchain family "dup-family" (two plugins built from this file collide on it), plus a
// feature named after the plugin. With SF_TEST_REGISTER_TWICE it registers that feature twice; with
// SF_TEST_SWALLOW_REFUSAL it does so and catches the refusal.
#include <memory>

#include "slurm_factory/feature.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"
#include "slurm_factory/toolchain.hpp"

namespace {

void register_plugin(sf::Registry& registry) {
  registry.add_feature(SF_TEST_PLUGIN_NAME "-feature",
                       [] { return std::unique_ptr<sf::Feature>(); });
#if defined(SF_TEST_SWALLOW_REFUSAL)
  // Registers the name again and swallows the host's refusal: it must be refused all the same.
  try {
    registry.add_feature(SF_TEST_PLUGIN_NAME "-feature",
                         [] { return std::unique_ptr<sf::Feature>(); });
  } catch (...) {
  }
#elif defined(SF_TEST_REGISTER_TWICE)
  registry.add_feature(SF_TEST_PLUGIN_NAME "-feature",
                       [] { return std::unique_ptr<sf::Feature>(); });
#else
  registry.add_toolchain_family("dup-family",
                                [] { return std::unique_ptr<sf::ToolchainFamily>(); });
#endif
}

}  // namespace

SLURM_FACTORY_PLUGIN(SF_TEST_PLUGIN_NAME, "0.0.1", "Duplicate factory test plugin", register_plugin)
