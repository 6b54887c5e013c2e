// The package-manager-independent part of the build image setup script
// (sf_toolchain/setup_script.hpp).
#include <algorithm>
#include <sstream>

#include "sf_toolchain/setup_script.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/shell_quote.hpp"

namespace sf::setup_script {
namespace {

// Text for a comment line: no line breaks.
std::string one_line(std::string s) {
  std::replace_if(
      s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return s;
}

void require_package_names(const ToolchainRelease& release, const std::vector<std::string>& pkgs) {
  for (const auto& p : pkgs) {
    if (p.empty() || p.front() == '-' ||
        p.find_first_of(" \t\n'\"$`\\;&|<>(){}*?[]#!") != std::string::npos) {
      throw ConfigurationError("invalid package name '" + p + "' for toolchain " + release.name,
                               {{"toolchain", release.name}, {"origin", release.origin}},
                               "package names are plain words such as libmunge-dev");
    }
  }
}

void require_package_manager(const ToolchainRelease& release, PackageManager manager) {
  if (release.package_manager == manager) return;
  throw ConfigurationError(
      "toolchain " + release.name + " says package_manager: " + to_string(release.package_manager) +
          ", but family " + release.family + " sets up its images with " + to_string(manager),
      {{"toolchain", release.name}, {"family", release.family}, {"origin", release.origin}},
      "remove package_manager from the release, or bind it to a family that uses " +
          to_string(release.package_manager));
}

}  // namespace

void command_lines(std::ostream& out, const std::string& command,
                   const std::vector<std::string>& args) {
  out << command;
  for (const auto& a : args) out << " \\\n    " << shell_quote(a);
  out << "\n";
}

std::vector<PackageRepository> enabled_repositories(
    const ToolchainRelease& release, const std::vector<std::string>& extra_packages) {
  const auto pkgs = setup_packages(release, extra_packages);
  std::vector<PackageRepository> out;
  for (const auto& r : release.repositories) {
    const bool needed =
        r.needed_by.empty() || std::any_of(r.needed_by.begin(), r.needed_by.end(), [&](auto& p) {
          return std::binary_search(pkgs.begin(), pkgs.end(), p);
        });
    if (needed) out.push_back(r);
  }
  return out;
}

void require_cross_build(const ToolchainRelease& release, const PackageManagerSteps& steps) {
  const auto& arches = release.cross_arches;
  if (steps.cross_setup != nullptr && steps.cross_packages != nullptr &&
      std::find(arches.begin(), arches.end(), release.arch) != arches.end()) {
    return;
  }
  throw ConfigurationError(
      "toolchain " + release.name + " cannot cross-build " + release.arch + " on an " +
          release.build_arch + " host",
      {{"toolchain", release.name}, {"family", release.family}, {"origin", release.origin}},
      steps.cross_setup == nullptr
          ? "build on an " + release.arch + " host (" + to_string(release.package_manager) +
                " has no cross toolchain), or pick a Debian toolchain (bookworm, trixie)"
          : "list " + release.arch + " in the release's cross_arches, or build on an " +
                release.arch + " host");
}

std::string render(const ToolchainRelease& release, const std::vector<std::string>& extra_packages,
                   const PackageManagerSteps& steps) {
  require_package_manager(release, steps.manager);
  const bool cross = is_cross_build(release);
  if (cross) require_cross_build(release, steps);
  const auto packages = cross ? steps.cross_packages(release, extra_packages)
                              : setup_packages(release, extra_packages);
  require_package_names(release, packages);
  const auto repos = enabled_repositories(release, extra_packages);

  std::ostringstream out;
  out << "#!/bin/sh\n"
      << "# Build image setup for toolchain " << release.name << " (family " << release.family
      << "): " << one_line(release.os_name) << ", GCC " << release.gcc_version << ", glibc "
      << release.glibc_version << ".\n"
      << "# Rendered by slurm-factory from the release data: run once as root on top of the base\n"
      << "# image (the RUN step of the image build). The same data renders the same bytes.\n"
      << "set -eu\n";

  if (cross) {
    out << "\n# Cross build: " << release.build_arch << " host and image, " << release.arch
        << " target.\n";
    steps.cross_setup(out, release);
  }
  steps.install(out, repos, packages);

  if (!release.quirks.empty()) {
    out << "\n# Quirks of " << release.name << ".\n";
    for (const auto& q : release.quirks) out << q << "\n";
  }

  out << "\n# Clean the package caches: they are not part of the image.\n" << steps.clean;

  out << "\n# The unprivileged user every build runs as (fixed uid/gid " << kBuilderUid << ").\n"
      << "groupadd --gid " << kBuilderGid << " " << kBuilderUser << "\n"
      << "useradd --uid " << kBuilderUid << " --gid " << kBuilderGid
      << " --no-log-init --create-home --home-dir " << kBuilderHome << " --shell /bin/sh "
      << kBuilderUser << "\n";

  // The compiler and C library are the toolchain's identity in every package hash: say when the
  // image differs from the release data (a moving base image tag), without failing the image.
  out << "\n# Compare the installed compiler and C library with the release data.\n"
      << "sf_gcc=$(gcc -dumpfullversion)\n"
      << "sf_glibc=$(getconf GNU_LIBC_VERSION | sed 's/^glibc //')\n"
      << "echo \"slurm-factory: " << release.name << " has gcc $sf_gcc, glibc $sf_glibc\"\n"
      << "case \"$sf_gcc\" in\n"
      << "  " << shell_quote(release.gcc_version) << " | " << shell_quote(release.gcc_version)
      << ".*) ;;\n"
      << "  *) echo \"slurm-factory: warning: release data says gcc " << release.gcc_version
      << "\" >&2 ;;\n"
      << "esac\n"
      << "case \"$sf_glibc\" in\n"
      << "  " << shell_quote(release.glibc_version) << " | " << shell_quote(release.glibc_version)
      << ".*) ;;\n"
      << "  *) echo \"slurm-factory: warning: release data says glibc " << release.glibc_version
      << "\" >&2 ;;\n"
      << "esac\n";
  return out.str();
}

}  // namespace sf::setup_script
