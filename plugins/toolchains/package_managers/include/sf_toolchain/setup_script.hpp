// The build image setup script every toolchain family renders, whatever its package manager: a
// POSIX sh script (set -eu) that enables the repositories the package set needs, installs the
// packages, runs the release's quirks, cleans the package caches, adds the unprivileged builder
// user and compares the installed gcc/glibc with the release data. The package manager's part
// (install and clean lines, how a repository is enabled) comes from a PackageManagerSteps:
// sf_toolchain/apt.hpp and sf_toolchain/dnf.hpp. Deterministic: the same inputs render the same
// bytes (the release's origin is not part of it).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "slurm_factory/toolchain.hpp"

namespace sf::setup_script {

// One command with its arguments, one argument per continued line.
void command_lines(std::ostream& out, const std::string& command,
                   const std::vector<std::string>& args);

// The repositories the script enables for that package set (those whose needed_by is empty or
// names one of setup_packages(release, extra_packages)), in release order.
std::vector<PackageRepository> enabled_repositories(const ToolchainRelease& release,
                                                    const std::vector<std::string>& extra_packages);

// The package manager's part of the script.
struct PackageManagerSteps {
  PackageManager manager;  // the releases it serves (others are refused)
  // Enable `repositories` and install `packages` (sorted, validated), starting with a blank line.
  void (*install)(std::ostream& out, const std::vector<PackageRepository>& repositories,
                  const std::vector<std::string>& packages);
  // The lines that remove the package manager's caches.
  const char* clean;
  // A cross build (is_cross_build(release)): the lines that let the package manager install the
  // target's packages (apt: dpkg --add-architecture), written before `install`, and the package
  // set (native build tools, the cross compiler, the target's -dev packages). nullptr: the package
  // manager cannot cross-build and render() refuses, naming the release.
  void (*cross_setup)(std::ostream& out, const ToolchainRelease& release) = nullptr;
  std::vector<std::string> (*cross_packages)(
      const ToolchainRelease& release, const std::vector<std::string>& extra_packages) = nullptr;
};

// Renders the script. Throws ConfigurationError naming the release (and its origin) for a package
// name that is not a plain word, a release whose package_manager is not steps.manager, or a cross
// build the package manager or the release cannot make.
std::string render(const ToolchainRelease& release, const std::vector<std::string>& extra_packages,
                   const PackageManagerSteps& steps);

}  // namespace sf::setup_script
