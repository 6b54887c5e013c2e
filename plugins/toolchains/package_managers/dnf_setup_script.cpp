// dnf's part of the build image setup script, and the data-driven family that uses it.
#include <ostream>

#include "sf_toolchain/dnf.hpp"
#include "sf_toolchain/setup_script.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/shell_quote.hpp"

namespace sf {
namespace dnf {
namespace {

using setup_script::command_lines;

void render_repositories(std::ostream& out, const std::vector<PackageRepository>& repos) {
  if (repos.empty()) return;
  std::vector<std::string> providers;
  bool config_manager = false;
  for (const auto& r : repos) {
    if (r.method == "dnf-package") {
      providers.insert(providers.end(), r.packages.begin(), r.packages.end());
    } else if (r.method == "dnf-config-manager" || r.method == "dnf-repo-file") {
      config_manager = true;
    } else {
      throw ConfigurationError("repository '" + r.name + "' uses method '" + r.method +
                                   "', which a dnf release cannot use",
                               {{"repository", r.name}},
                               "use dnf-package, dnf-config-manager or dnf-repo-file");
    }
  }
  if (config_manager) providers.push_back("dnf-plugins-core");
  out << "\n# Repositories.\n";
  if (!providers.empty()) {
    command_lines(out, "dnf -y --setopt=install_weak_deps=False install", providers);
  }
  for (const auto& r : repos) {
    if (r.method == "dnf-config-manager") {
      out << "dnf config-manager --set-enabled " << shell_quote(r.name) << "\n";
    } else if (r.method == "dnf-repo-file") {
      out << "dnf config-manager --add-repo " << shell_quote(r.url) << "\n";
    }
  }
}

void install(std::ostream& out, const std::vector<PackageRepository>& repos,
             const std::vector<std::string>& packages) {
  render_repositories(out, repos);
  out << "\n# Build tools and the -dev packages of Slurm's features.\n";
  command_lines(out, "dnf -y --setopt=install_weak_deps=False --setopt=tsflags=nodocs install",
                packages);
}

constexpr setup_script::PackageManagerSteps kSteps{PackageManager::kDnf, &install,
                                                   "dnf clean all\nrm -rf /var/cache/dnf\n"};

}  // namespace

std::string render_setup_script(const ToolchainRelease& release,
                                const std::vector<std::string>& extra_packages) {
  return setup_script::render(release, extra_packages, kSteps);
}

}  // namespace dnf

std::string DnfToolchainFamily::setup_script(const ToolchainRelease& release,
                                             const std::vector<std::string>& extra_packages) const {
  return dnf::render_setup_script(release, extra_packages);
}

}  // namespace sf
