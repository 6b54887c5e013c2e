// The rocky toolchain family: its releases are data (releases.yaml, embedded); its images are set
// up with dnf, by DnfToolchainFamily of plugins/toolchains/package_managers.
#include "sf_toolchain/dnf.hpp"
#include "slurm_factory/data_toolchain_plugin.hpp"

SLURM_FACTORY_DATA_TOOLCHAIN_PLUGIN(
    rocky, ::sf::DnfToolchainFamily, "1.0.0",
    "Rocky Linux toolchains: rockylinux8, rockylinux9, rockylinux10")
