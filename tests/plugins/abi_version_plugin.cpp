// A plugin whose descriptor is written by hand, to test the host's ABI refusals: the ABI version
// given at compile time (SF_TEST_ABI_MAJOR, SF_TEST_ABI_MINOR; the SDK's by default), in the ABI
// 1.x layout with SF_TEST_ABI1_LAYOUT (no fingerprint: the name follows the version, as in a plugin
// built before 2.0), and with SF_TEST_COMPILER (e.g. "gcc 99.1") in place of the compiler part of
// the toolchain fingerprint the SDK computes: a plugin built with another compiler.
#include <cstdint>
#include <stdexcept>

#include "slurm_factory/plugin.hpp"

namespace {

void register_plugin(sf::Registry&) {
  throw std::logic_error("an incompatible plugin's register function must never run");
}

#ifndef SF_TEST_ABI_MAJOR
#define SF_TEST_ABI_MAJOR ::sf::kAbiMajor
#define SF_TEST_ABI_MINOR ::sf::kAbiMinor
#endif

#ifdef SF_TEST_ABI1_LAYOUT
struct Abi1Descriptor {
  std::uint32_t abi_major;
  std::uint32_t abi_minor;
  const char* name;
  const char* version;
  const char* description;
  void (*register_plugin)(sf::Registry&);
};
const Abi1Descriptor descriptor{SF_TEST_ABI_MAJOR, SF_TEST_ABI_MINOR,         "test-abi",
                                "0.0.1",           "ABI version test plugin", register_plugin};
const void* const descriptor_address = &descriptor;
#else
#ifdef SF_TEST_COMPILER
#define SF_TEST_FINGERPRINT                                                  \
  SF_TEST_COMPILER "; " SLURM_FACTORY_FP_STDLIB_ "; " SLURM_FACTORY_FP_JSON_ \
                   "; " SLURM_FACTORY_FP_SPDLOG_
#else
#define SF_TEST_FINGERPRINT SLURM_FACTORY_TOOLCHAIN_FINGERPRINT
#endif
const sf::PluginDescriptor descriptor{
    SF_TEST_ABI_MAJOR, SF_TEST_ABI_MINOR,         SF_TEST_FINGERPRINT, "test-abi",
    "0.0.1",           "ABI version test plugin", register_plugin};
const void* const descriptor_address = &descriptor;
#endif

const sf::PluginDescriptor* entry() {
  return static_cast<const sf::PluginDescriptor*>(descriptor_address);
}

}  // namespace

BOOST_DLL_ALIAS(entry, slurm_factory_plugin)
