// dnf, for the families that install with it (rocky): the setup script's dnf lines and a
// data-driven family using them. Link the static library sf-toolchain-dnf.
#pragma once

#include <string>
#include <vector>

#include "slurm_factory/toolchain.hpp"

namespace sf {

namespace dnf {

// The build image setup script of a dnf release (see sf_toolchain/setup_script.hpp): repositories
// enabled by installing a package (epel-release), with `dnf config-manager --set-enabled` or
// `--add-repo`; packages installed without weak dependencies or docs. Throws ConfigurationError for
// an apt release, an apt repository method, or a package name that is not a plain word.
std::string render_setup_script(const ToolchainRelease& release,
                                const std::vector<std::string>& extra_packages = {});

}  // namespace dnf

// A family whose releases come from embedded YAML and whose images are set up with dnf.
class DnfToolchainFamily : public DataDrivenToolchainFamily {
 public:
  using DataDrivenToolchainFamily::DataDrivenToolchainFamily;
  std::string setup_script(const ToolchainRelease& release,
                           const std::vector<std::string>& extra_packages) const override;
};

}  // namespace sf
