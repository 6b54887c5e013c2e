// apt's part of the build image setup script, and the data-driven family that uses it.
#include <ostream>

#include "sf_toolchain/apt.hpp"
#include "sf_toolchain/setup_script.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/shell_quote.hpp"

namespace sf {
namespace apt {
namespace {

using setup_script::command_lines;

void render_repositories(std::ostream& out, const std::vector<PackageRepository>& repos) {
  std::vector<std::string> components;
  for (const auto& r : repos) {
    if (r.method != "apt-component") {
      throw ConfigurationError("repository '" + r.name + "' uses method '" + r.method +
                                   "', which an apt release cannot use",
                               {{"repository", r.name}}, "use method apt-component");
    }
    components.push_back(r.name);
  }
  if (components.empty()) return;
  out << "\n# Repositories: add components to every Debian-style source of the image.\n"
         "sf_enable_apt_component() {\n"
         "  for sf_list in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do\n"
         "    [ -f \"$sf_list\" ] || continue\n"
         "    sed -i \"/^deb[[:space:]]/{/[[:space:]]$1\\([[:space:]]\\|\\$\\)/!s/\\$/ $1/}\" "
         "\"$sf_list\"\n"
         "  done\n"
         "  for sf_list in /etc/apt/sources.list.d/*.sources; do\n"
         "    [ -f \"$sf_list\" ] || continue\n"
         "    sed -i \"/^Components:/{/[[:space:]]$1\\([[:space:]]\\|\\$\\)/!s/\\$/ $1/}\" "
         "\"$sf_list\"\n"
         "  done\n"
         "}\n";
  for (const auto& c : components) out << "sf_enable_apt_component " << shell_quote(c) << "\n";
}

void install(std::ostream& out, const std::vector<PackageRepository>& repos,
             const std::vector<std::string>& packages) {
  out << "\nexport DEBIAN_FRONTEND=noninteractive\n";
  render_repositories(out, repos);
  out << "\n# Build tools and the -dev packages of Slurm's features.\n"
      << "apt-get update\n";
  command_lines(out, "apt-get install -y --no-install-recommends", packages);
}

constexpr setup_script::PackageManagerSteps kSteps{PackageManager::kApt, &install,
                                                   "apt-get clean\nrm -rf /var/lib/apt/lists/*\n"};

}  // namespace

std::string render_setup_script(const ToolchainRelease& release,
                                const std::vector<std::string>& extra_packages) {
  return setup_script::render(release, extra_packages, kSteps);
}

}  // namespace apt

std::string AptToolchainFamily::setup_script(const ToolchainRelease& release,
                                             const std::vector<std::string>& extra_packages) const {
  return apt::render_setup_script(release, extra_packages);
}

}  // namespace sf
