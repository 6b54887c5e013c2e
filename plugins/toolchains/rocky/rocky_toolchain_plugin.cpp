// The rocky toolchain family: all of it is data (releases.yaml, embedded); the behaviour is the
// core's DataDrivenToolchainFamily.
#include "slurm_factory/data_toolchain_plugin.hpp"

SLURM_FACTORY_DATA_TOOLCHAIN_PLUGIN(
    rocky, "1.0.0", "Rocky Linux toolchains: rockylinux8, rockylinux9, rockylinux10")
