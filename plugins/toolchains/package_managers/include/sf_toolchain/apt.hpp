// apt, for the families that install with it (debian, ubuntu, and out-of-tree ones such as
// sdk/examples/custom-toolchain): the setup script's apt lines and a data-driven family using them.
// Link the static library sf-toolchain-apt (installed: SlurmFactory::toolchain-apt).
#pragma once

#include <string>
#include <vector>

#include "slurm_factory/toolchain.hpp"

namespace sf {

namespace apt {

// The build image setup script of an apt release (see sf_toolchain/setup_script.hpp): repositories
// are apt components added to every deb / deb822 source, packages installed with
// --no-install-recommends. Throws ConfigurationError for a dnf release, a repository method other
// than apt-component, or a package name that is not a plain word.
std::string render_setup_script(const ToolchainRelease& release,
                                const std::vector<std::string>& extra_packages = {});

}  // namespace apt

// A family whose releases come from embedded YAML and whose images are set up with apt.
class AptToolchainFamily : public DataDrivenToolchainFamily {
 public:
  using DataDrivenToolchainFamily::DataDrivenToolchainFamily;
  std::string setup_script(const ToolchainRelease& release,
                           const std::vector<std::string>& extra_packages) const override;
};

}  // namespace sf
