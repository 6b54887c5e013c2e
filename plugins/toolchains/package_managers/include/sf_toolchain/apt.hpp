// apt, for the families that install with it (debian, ubuntu, and out-of-tree ones such as
// sdk/examples/custom-toolchain): the setup script's apt lines, the mmdebstrap/debootstrap commands
// of an offline base image, and a data-driven family using them.
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

// The packages that script installs: the release's (setup_packages), or for a cross build the
// native build tools, crossbuild-essential-<arch> and every -dev and feature package as
// NAME:<arch>.
std::vector<std::string> setup_packages(const ToolchainRelease& release,
                                        const std::vector<std::string>& extra_packages = {});

// How to make a base rootfs from a Debian-style mirror: mmdebstrap (minbase, straight to the
// tarball) unless the recipe names debootstrap, then debootstrap into `work_dir` + tar. Components
// default to main, the variant to minbase; extra packages are --include'd.
RootfsBootstrap rootfs_bootstrap(const BootstrapRecipe& recipe, const std::string& arch,
                                 const std::string& tarball, const std::string& work_dir);

}  // namespace apt

// A family whose releases come from embedded YAML, whose images are set up with apt and whose base
// images can be bootstrapped with mmdebstrap/debootstrap.
class AptToolchainFamily : public DataDrivenToolchainFamily {
 public:
  using DataDrivenToolchainFamily::DataDrivenToolchainFamily;
  std::string setup_script(const ToolchainRelease& release,
                           const std::vector<std::string>& extra_packages) const override;
  std::vector<std::string> setup_packages(
      const ToolchainRelease& release,
      const std::vector<std::string>& extra_packages) const override;
  std::optional<RootfsBootstrap> rootfs_bootstrap(const BootstrapRecipe& recipe,
                                                  const std::string& arch,
                                                  const std::string& tarball,
                                                  const std::string& work_dir) const override;
};

}  // namespace sf
