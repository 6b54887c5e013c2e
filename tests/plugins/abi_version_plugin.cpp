// A plugin whose descriptor is written by hand with the ABI version given at compile time
// (SF_TEST_ABI_MAJOR, SF_TEST_ABI_MINOR), to test the host's ABI refusals.
#include <stdexcept>

#include "slurm_factory/plugin.hpp"

namespace {

void register_plugin(sf::Registry&) {
  throw std::logic_error("an incompatible plugin's register function must never run");
}

const sf::PluginDescriptor descriptor{
    SF_TEST_ABI_MAJOR, SF_TEST_ABI_MINOR,         "test-abi",
    "0.0.1",           "ABI version test plugin", register_plugin};

const sf::PluginDescriptor* entry() { return &descriptor; }

}  // namespace

BOOST_DLL_ALIAS(entry, slurm_factory_plugin)
