// The ubuntu toolchain family: its releases are data (releases.yaml, embedded); its images are set
// up with apt, by AptToolchainFamily of plugins/toolchains/package_managers.
#include "sf_toolchain/apt.hpp"
#include "slurm_factory/data_toolchain_plugin.hpp"

SLURM_FACTORY_DATA_TOOLCHAIN_PLUGIN(ubuntu, ::sf::AptToolchainFamily, "1.0.0",
                                    "Ubuntu toolchains: jammy, noble, resolute")
