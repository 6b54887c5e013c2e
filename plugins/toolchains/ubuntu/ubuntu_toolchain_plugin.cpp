// The ubuntu toolchain family: all of it is data (releases.yaml, embedded); the behaviour is the
// core's DataDrivenToolchainFamily.
#include <memory>
#include <string_view>

#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"
#include "slurm_factory/toolchain.hpp"

extern "C" {
extern const char sf_ubuntu_releases[];
extern const unsigned long sf_ubuntu_releases_size;
}

namespace {

void register_plugin(sf::Registry& registry) {
  registry.add_toolchain_family("ubuntu", [] {
    return std::make_unique<sf::DataDrivenToolchainFamily>(
        "ubuntu", std::string_view(sf_ubuntu_releases, sf_ubuntu_releases_size),
        "toolchain-ubuntu/releases.yaml");
  });
}

}  // namespace

SLURM_FACTORY_PLUGIN("toolchain-ubuntu", "1.0.0", "Ubuntu toolchains: jammy, noble, resolute",
                     register_plugin)
