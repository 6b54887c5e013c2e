// A plugin whose entry point returns no descriptor.
#include "slurm_factory/plugin.hpp"

namespace {
const sf::PluginDescriptor* entry() { return nullptr; }
}  // namespace

BOOST_DLL_ALIAS(entry, slurm_factory_plugin)
