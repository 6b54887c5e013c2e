// Rendering of the build image setup script, shared by every toolchain family: apt vs dnf install
// lines, enabling repositories, release quirks, cache cleaning, the unprivileged builder user.
#include <algorithm>
#include <set>
#include <sstream>

#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {
namespace {

// A word for POSIX sh: as is when it has only safe characters, else single-quoted.
std::string sh_word(const std::string& s) {
  const bool safe = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '+' || c == ':' || c == '/' || c == '=' || c == '@' ||
           c == ',';
  });
  if (safe) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Text for a comment line: no line breaks.
std::string one_line(std::string s) {
  std::replace_if(
      s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return s;
}

// One command with its arguments, one argument per continued line.
void command_lines(std::ostream& out, const std::string& command,
                   const std::vector<std::string>& args) {
  out << command;
  for (const auto& a : args) out << " \\\n    " << sh_word(a);
  out << "\n";
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

void render_apt_repositories(std::ostream& out, const std::vector<PackageRepository>& repos) {
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
  for (const auto& c : components) out << "sf_enable_apt_component " << sh_word(c) << "\n";
}

void render_dnf_repositories(std::ostream& out, const std::vector<PackageRepository>& repos) {
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
      out << "dnf config-manager --set-enabled " << sh_word(r.name) << "\n";
    } else if (r.method == "dnf-repo-file") {
      out << "dnf config-manager --add-repo " << sh_word(r.url) << "\n";
    }
  }
}

}  // namespace

std::vector<std::string> setup_packages(const ToolchainRelease& release,
                                        const std::vector<std::string>& extra_packages) {
  std::set<std::string> all;
  for (const auto& [tool, pkgs] : release.build_tools) all.insert(pkgs.begin(), pkgs.end());
  for (const auto& [lib, pkgs] : release.dev_packages) all.insert(pkgs.begin(), pkgs.end());
  all.insert(extra_packages.begin(), extra_packages.end());
  return {all.begin(), all.end()};
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

std::string render_setup_script(const ToolchainRelease& release,
                                const std::vector<std::string>& extra_packages) {
  const auto packages = setup_packages(release, extra_packages);
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

  if (release.package_manager == PackageManager::kApt) {
    out << "\nexport DEBIAN_FRONTEND=noninteractive\n";
    render_apt_repositories(out, repos);
    out << "\n# Build tools and the -dev packages of Slurm's features.\n"
        << "apt-get update\n";
    command_lines(out, "apt-get install -y --no-install-recommends", packages);
  } else {
    render_dnf_repositories(out, repos);
    out << "\n# Build tools and the -dev packages of Slurm's features.\n";
    command_lines(out, "dnf -y --setopt=install_weak_deps=False --setopt=tsflags=nodocs install",
                  packages);
  }

  if (!release.quirks.empty()) {
    out << "\n# Quirks of " << release.name << ".\n";
    for (const auto& q : release.quirks) out << q << "\n";
  }

  out << "\n# Clean the package caches: they are not part of the image.\n";
  if (release.package_manager == PackageManager::kApt) {
    out << "apt-get clean\nrm -rf /var/lib/apt/lists/*\n";
  } else {
    out << "dnf clean all\nrm -rf /var/cache/dnf\n";
  }

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
      << "  " << sh_word(release.gcc_version) << " | " << sh_word(release.gcc_version) << ".*) ;;\n"
      << "  *) echo \"slurm-factory: warning: release data says gcc " << release.gcc_version
      << "\" >&2 ;;\n"
      << "esac\n"
      << "case \"$sf_glibc\" in\n"
      << "  " << sh_word(release.glibc_version) << " | " << sh_word(release.glibc_version)
      << ".*) ;;\n"
      << "  *) echo \"slurm-factory: warning: release data says glibc " << release.glibc_version
      << "\" >&2 ;;\n"
      << "esac\n";
  return out.str();
}

}  // namespace sf
