// The ubuntu toolchain family: all of it is data (releases.yaml, embedded); the behaviour is the
// core's DataDrivenToolchainFamily.
#include "slurm_factory/data_toolchain_plugin.hpp"

SLURM_FACTORY_DATA_TOOLCHAIN_PLUGIN(ubuntu, "1.0.0", "Ubuntu toolchains: jammy, noble, resolute")
