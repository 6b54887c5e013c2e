#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {

// Placeholder until the toolchain work lands (issue 2, toolchains).
std::string render_setup_script(const ToolchainRelease& release,
                                const std::vector<std::string>& /*extra_packages*/) {
  throw NotImplementedError("setup script rendering does not exist yet",
                            {{"toolchain", release.name}});
}

}  // namespace sf
