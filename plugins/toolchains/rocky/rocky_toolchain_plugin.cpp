// The rocky toolchain family: all of it is data (releases.yaml, embedded); the behaviour is the
// core's DataDrivenToolchainFamily.
#include <memory>
#include <string_view>

#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"
#include "slurm_factory/toolchain.hpp"

extern "C" {
extern const char sf_rocky_releases[];
extern const unsigned long sf_rocky_releases_size;
}

namespace {

void register_plugin(sf::Registry& registry) {
  registry.add_toolchain_family("rocky", [] {
    return std::make_unique<sf::DataDrivenToolchainFamily>(
        "rocky", std::string_view(sf_rocky_releases, sf_rocky_releases_size),
        "toolchain-rocky/releases.yaml");
  });
}

}  // namespace

SLURM_FACTORY_PLUGIN("toolchain-rocky", "1.0.0",
                     "Rocky Linux toolchains: rockylinux8, rockylinux9, rockylinux10",
                     register_plugin)
