// apt's part of the build image setup script, and the data-driven family that uses it.
#include <algorithm>
#include <ostream>
#include <set>

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

// Debian multiarch: the target's packages install beside the host's once dpkg knows the
// architecture.
void cross_setup(std::ostream& out, const ToolchainRelease& release) {
  out << "dpkg --add-architecture " << shell_quote(release.arch) << "\n";
}

// The build tools run on the host (native packages), the compiler is crossbuild-essential-<arch>,
// and every library the build links (the -dev packages and the features' packages) is the
// target's: NAME:<arch>.
std::vector<std::string> cross_packages(const ToolchainRelease& release,
                                        const std::vector<std::string>& extra_packages) {
  std::set<std::string> all;
  for (const auto& [tool, pkgs] : release.build_tools) all.insert(pkgs.begin(), pkgs.end());
  all.insert("crossbuild-essential-" + release.arch);
  auto target = [&](const std::string& p) { all.insert(p + ":" + release.arch); };
  for (const auto& [name, pkgs] : release.dev_packages)
    std::for_each(pkgs.begin(), pkgs.end(), target);
  std::for_each(extra_packages.begin(), extra_packages.end(), target);
  return {all.begin(), all.end()};
}

constexpr setup_script::PackageManagerSteps kSteps{PackageManager::kApt, &install,
                                                   "apt-get clean\nrm -rf /var/lib/apt/lists/*\n",
                                                   &cross_setup, &cross_packages};

}  // namespace

std::string render_setup_script(const ToolchainRelease& release,
                                const std::vector<std::string>& extra_packages) {
  return setup_script::render(release, extra_packages, kSteps);
}

}  // namespace apt

std::vector<std::string> apt::setup_packages(const ToolchainRelease& release,
                                             const std::vector<std::string>& extra_packages) {
  return is_cross_build(release) ? cross_packages(release, extra_packages)
                                 : sf::setup_packages(release, extra_packages);
}

std::vector<std::string> AptToolchainFamily::setup_packages(
    const ToolchainRelease& release, const std::vector<std::string>& extra_packages) const {
  return apt::setup_packages(release, extra_packages);
}

std::string AptToolchainFamily::setup_script(const ToolchainRelease& release,
                                             const std::vector<std::string>& extra_packages) const {
  return apt::render_setup_script(release, extra_packages);
}

}  // namespace sf
