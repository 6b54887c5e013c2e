// The one entry point of a plugin shared object.
//
// A plugin defines a register function and names it with SLURM_FACTORY_PLUGIN:
//
//   static void register_plugin(sf::Registry& r) { r.add_toolchain_family("example", ...); }
//   SLURM_FACTORY_PLUGIN("example-toolchain", "1.0.0", "Adds the example toolchain",
//   register_plugin)
//
// The macro exports one Boost.DLL alias, `slurm_factory_plugin`, a function returning a pointer to
// a plain PluginDescriptor. Its first two fields (the ABI version) keep their place in every ABI
// version, so the host can always read them and refuse a mismatch with a clear message. From ABI
// 2.0 on, the third is the toolchain fingerprint (abi.hpp), fixed when the plugin is compiled.
#pragma once

#include <boost/dll/alias.hpp>
#include <cstdint>

#include "slurm_factory/abi.hpp"

namespace sf {

class Registry;

struct PluginDescriptor {
  std::uint32_t abi_major;  // never moves
  std::uint32_t abi_minor;  // never moves
  // ABI 2.0: sf::toolchain_fingerprint() as the plugin was compiled; keeps its place in 2.x.
  const char* toolchain_fingerprint;
  const char* name;
  const char* version;
  const char* description;
  void (*register_plugin)(Registry&);
};

inline constexpr const char* kPluginEntryPoint = "slurm_factory_plugin";
using PluginEntryFn = const PluginDescriptor*();

}  // namespace sf

#define SLURM_FACTORY_PLUGIN(NAME, VERSION, DESCRIPTION, REGISTER_FN)                 \
  namespace {                                                                         \
  const ::sf::PluginDescriptor sf_plugin_descriptor_{                                 \
      ::sf::kAbiMajor, ::sf::kAbiMinor, ::sf::toolchain_fingerprint(), NAME, VERSION, \
      DESCRIPTION,     REGISTER_FN};                                                  \
  const ::sf::PluginDescriptor* sf_plugin_entry_() { return &sf_plugin_descriptor_; } \
  }                                                                                   \
  BOOST_DLL_ALIAS(sf_plugin_entry_, slurm_factory_plugin)
