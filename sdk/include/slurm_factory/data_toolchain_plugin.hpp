// A toolchain family plugin that is all data: its releases YAML is embedded with
// slurm_factory_add_plugin(... EMBED sf_<id>_releases=releases.yaml) and its behaviour is a
// DataDrivenToolchainFamily subclass that brings the package manager (sf::AptToolchainFamily from
// sf_toolchain/apt.hpp, sf::DnfToolchainFamily from sf_toolchain/dnf.hpp). One line makes the
// whole plugin:
//
//   SLURM_FACTORY_DATA_TOOLCHAIN_PLUGIN(debian, ::sf::AptToolchainFamily, "1.0.0",
//                                       "Debian toolchains: bookworm, trixie")
//
// registers family "debian" as plugin "toolchain-debian" from the symbol sf_debian_releases.
// FAMILY_CLASS is constructed as DataDrivenToolchainFamily is: (name, releases YAML, origin).
// A family that needs code of its own subclasses ToolchainFamily instead (see
// sdk/examples/custom-toolchain for the long form).
#pragma once

#include <memory>
#include <string_view>

#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"
#include "slurm_factory/toolchain.hpp"

#define SLURM_FACTORY_DATA_TOOLCHAIN_PLUGIN(ID, FAMILY_CLASS, VERSION, DESCRIPTION) \
  extern "C" {                                                                      \
  extern const char sf_##ID##_releases[];                                           \
  extern const unsigned long sf_##ID##_releases_size;                               \
  }                                                                                 \
  namespace {                                                                       \
  void sf_register_data_toolchain_(::sf::Registry& registry) {                      \
    registry.add_toolchain_family(#ID, [] {                                         \
      return std::make_unique<FAMILY_CLASS>(                                        \
          #ID, std::string_view(sf_##ID##_releases, sf_##ID##_releases_size),       \
          "toolchain-" #ID "/releases.yaml");                                       \
    });                                                                             \
  }                                                                                 \
  }                                                                                 \
  SLURM_FACTORY_PLUGIN("toolchain-" #ID, VERSION, DESCRIPTION, sf_register_data_toolchain_)
