#include "slurm_factory/toolchain.hpp"

namespace sf {

std::string ToolchainFamily::setup_script(const ToolchainRelease& release,
                                          const std::vector<std::string>& extra_packages) const {
  return render_setup_script(release, extra_packages);
}

std::optional<BootstrapRecipe> ToolchainFamily::bootstrap_recipe(
    const ToolchainRelease& release) const {
  return release.bootstrap;
}

}  // namespace sf
