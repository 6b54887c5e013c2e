// The debian toolchain family: all of it is data (releases.yaml, embedded); the behaviour is the
// core's DataDrivenToolchainFamily.
#include <memory>
#include <string_view>

#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"
#include "slurm_factory/toolchain.hpp"

extern "C" {
extern const char sf_debian_releases[];
extern const unsigned long sf_debian_releases_size;
}

namespace {

void register_plugin(sf::Registry& registry) {
  registry.add_toolchain_family("debian", [] {
    return std::make_unique<sf::DataDrivenToolchainFamily>(
        "debian", std::string_view(sf_debian_releases, sf_debian_releases_size),
        "toolchain-debian/releases.yaml");
  });
}

}  // namespace

SLURM_FACTORY_PLUGIN("toolchain-debian", "1.0.0",
                     "Debian toolchains: bookworm, trixie (offline bootstrap with mmdebstrap)",
                     register_plugin)
