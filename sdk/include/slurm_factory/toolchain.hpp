// Toolchains: one OS family (ubuntu, rocky, debian, ...) and its releases (noble, rockylinux9, ...).
//
// Release data is plain YAML inside each family plugin (and, for site releases, in the user's
// config). The behaviour every family shares — apt vs dnf, enabling repositories, rendering the
// image setup script, planning an offline bootstrap — is implemented once in the core library and
// offered here (DataDrivenToolchainFamily), so a family plugin is mostly data.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sf {

enum class PackageManager { kApt, kDnf };
std::string to_string(PackageManager pm);

// An extra package repository a release needs (EPEL, powertools/crb, Debian non-free, ...).
struct PackageRepository {
  std::string name;  // "epel", "crb", "powertools", "non-free"
  // How it is enabled: "dnf-package" (install the named package), "dnf-config-manager"
  // (dnf config-manager --set-enabled NAME), "apt-component" (add a component to the sources).
  std::string method;
  std::vector<std::string> packages;  // for dnf-package: the packages that provide the repo
};

// How an image is made without a registry (Debian family: mmdebstrap/debootstrap from a mirror).
struct BootstrapRecipe {
  std::string tool;    // "mmdebstrap" (falls back to "debootstrap")
  std::string suite;   // "bookworm"
  std::string mirror;  // "http://deb.debian.org/debian"
  std::vector<std::string> components;      // main, contrib, non-free, ...
  std::vector<std::string> extra_packages;  // included in the minimal rootfs
};

struct ToolchainRelease {
  std::string name;    // "noble"
  std::string family;  // "ubuntu"
  std::string os_name;     // "Ubuntu 24.04 LTS (Noble Numbat)"
  std::string os_version;  // "24.04"
  std::string gcc_version;
  std::string glibc_version;
  std::string base_image;  // "docker.io/library/ubuntu:24.04"
  std::string arch = "amd64";
  PackageManager package_manager = PackageManager::kApt;
  // Build tools never shipped in an artifact: compiler, make, autotools, cmake, pkg-config, patchelf,
  // python3, ...: logical name -> package names.
  std::map<std::string, std::vector<std::string>> build_tools;
  // -dev packages of the libraries Slurm's features use: "munge" -> ["libmunge-dev"], ...
  std::map<std::string, std::vector<std::string>> dev_packages;
  // GPU feature packages: "cuda" -> ["libnvidia-ml-dev"], "rocm" -> [...], "oneapi" -> [...]
  std::map<std::string, std::vector<std::string>> gpu_packages;
  std::vector<PackageRepository> repositories;
  // Extra shell lines run after the package manager is set up, for a release's quirks.
  std::vector<std::string> quirks;
  // Sonames (globs allowed, e.g. "libc.so.*") a minimal host of this release always has: never
  // bundled in an artifact, and accepted by `verify --deep`.
  std::vector<std::string> system_libraries;
  std::optional<BootstrapRecipe> bootstrap;
  std::string origin;  // where this release was defined ("plugin debian", "config.yaml:12:3")
};

// Renders the POSIX shell script that turns the base image into the build image: enable
// repositories, install build tools and dev packages (plus `extra_packages`, e.g. a feature's), add
// the unprivileged builder user. Deterministic: the same inputs render the same bytes.
std::string render_setup_script(const ToolchainRelease& release,
                                const std::vector<std::string>& extra_packages = {});

// Parses a family's release YAML (see plugins/toolchains/*/releases.yaml). Throws
// ConfigurationError with `origin:line:column` on any error.
std::vector<ToolchainRelease> parse_toolchain_releases(std::string_view yaml_text,
                                                       const std::string& origin);

class ToolchainFamily {
 public:
  virtual ~ToolchainFamily();
  virtual std::string name() const = 0;
  // The releases the plugin knows.
  virtual std::vector<ToolchainRelease> releases() const = 0;
  // The build image setup script for a release of this family.
  virtual std::string setup_script(const ToolchainRelease& release,
                                   const std::vector<std::string>& extra_packages) const;
  // How to make the base image offline, when the family can (nullopt otherwise).
  virtual std::optional<BootstrapRecipe> bootstrap_recipe(const ToolchainRelease& release) const;
};

// A family whose releases come from embedded YAML and whose behaviour is the shared default.
class DataDrivenToolchainFamily : public ToolchainFamily {
 public:
  DataDrivenToolchainFamily(std::string name, std::string_view releases_yaml, std::string origin);
  ~DataDrivenToolchainFamily() override;
  std::string name() const override;
  std::vector<ToolchainRelease> releases() const override;

 private:
  std::string name_;
  std::vector<ToolchainRelease> releases_;
};

}  // namespace sf
