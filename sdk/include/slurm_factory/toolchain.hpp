// Toolchains: one OS family (ubuntu, rocky, debian, ...) and its releases (noble, rockylinux9,
// ...).
//
// Release data is plain YAML inside each family plugin (and, for site releases, in the user's
// config). The core parses it (parse_toolchain_releases, DataDrivenToolchainFamily) and computes
// the package set of a release (setup_packages); the image setup script, which depends on the
// package manager, is the family's (ToolchainFamily::setup_script). The shipped families render it
// with static libraries next to the plugins (plugins/toolchains/package_managers: sf-toolchain-apt
// for debian and ubuntu, sf-toolchain-dnf for rocky; sf-toolchain-apt is installed with the SDK as
// SlurmFactory::toolchain-apt, header sf_toolchain/apt.hpp). So is the offline base image: the
// family gives the recipe (bootstrap_recipe) and the commands that make the rootfs tarball
// (rootfs_bootstrap; apt: mmdebstrap, else debootstrap + tar); the core only runs them and imports
// the tarball.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sf {

enum class PackageManager { kApt, kDnf };
std::string to_string(PackageManager pm);  // "apt", "dnf"

// The unprivileged user every build image has and every build runs as. The uid/gid are fixed (not
// 1000: Ubuntu's images already have `ubuntu` at 1000) so the host can prepare writable mounts for
// it before a container starts. Never root, never privileged.
inline constexpr const char* kBuilderUser = "builder";
inline constexpr int kBuilderUid = 10001;
inline constexpr int kBuilderGid = 10001;
inline constexpr const char* kBuilderHome = "/home/builder";

// An extra package repository a release needs (EPEL, powertools/crb, Debian non-free, ...).
struct PackageRepository {
  std::string name;  // "epel", "crb", "powertools", "non-free", "cuda"
  // How it is enabled:
  //   "dnf-package"        install `packages` (e.g. epel-release), which provide the repository;
  //   "dnf-config-manager" dnf config-manager --set-enabled NAME (dnf-plugins-core is added);
  //   "dnf-repo-file"      dnf config-manager --add-repo URL (a .repo file or a baseurl);
  //   "apt-component"      add component NAME to every deb/deb822 source of the image.
  std::string method;
  std::vector<std::string> packages;  // for dnf-package: the packages that provide the repo
  std::string url;                    // for dnf-repo-file
  // Enabled only when one of these packages is installed (e.g. non-free for libnvidia-ml-dev);
  // empty: always enabled.
  std::vector<std::string> needed_by;
};

// What an offline base image is made from, as the release data says (Debian: mmdebstrap or
// debootstrap from a mirror); the family's rootfs_bootstrap turns it into commands.
struct BootstrapRecipe {
  std::string tool;  // "mmdebstrap" (falls back to "debootstrap")
  std::string variant = "minbase";
  std::string suite;                        // "bookworm"
  std::string mirror;                       // "http://deb.debian.org/debian"
  std::vector<std::string> components;      // main, contrib, non-free, ...
  std::vector<std::string> extra_packages;  // included in the minimal rootfs
};

// One way to make a base rootfs tarball: the commands run in order (each must exit 0), logged to a
// file and the terminal; `scratch` paths are removed afterwards, whatever the outcome.
struct RootfsBootstrapMethod {
  std::string tool;                                // must be on PATH for this way to be used
  std::string duration;                            // for the log line: "a minute or two"
  std::vector<std::vector<std::string>> commands;  // argv of each step
  std::vector<std::string> scratch;
};

// How a family makes a base rootfs: ways in order of preference (the core runs the first whose
// tool is installed) and what to do when none is.
struct RootfsBootstrap {
  std::vector<RootfsBootstrapMethod> methods;
  std::string install_hint;  // "apt-get install mmdebstrap (or debootstrap)"
};

struct ToolchainRelease {
  std::string name;           // "noble"
  std::string family;         // "ubuntu"
  std::string os_name;        // "Ubuntu 24.04 LTS (Noble Numbat)"
  std::string os_version;     // "24.04"
  std::string gcc_version;    // "13.3" (major.minor of the OS compiler)
  std::string glibc_version;  // "2.39"
  std::string base_image;     // "docker.io/library/ubuntu:24.04"
  // The architecture the image's builds produce: the host's, or the --arch of a cross build.
  std::string arch = "amd64";
  // Set by the core for a cross build: the architecture of the build host and its image (which
  // runs natively); `arch` is then the target. Empty for a native build.
  std::string build_arch;
  // Architectures an image of this release can cross-build for from another host architecture
  // (Debian multiarch: crossbuild-essential-<arch> and each -dev package as NAME:<arch>). Empty:
  // native builds only (a cross request is refused, naming the releases that can).
  std::vector<std::string> cross_arches;
  PackageManager package_manager = PackageManager::kApt;
  // Build tools never shipped in an artifact: compiler, make, autotools, cmake, pkg-config,
  // patchelf, python3, ...: logical name -> package names.
  std::map<std::string, std::vector<std::string>> build_tools;
  // -dev packages of the libraries Slurm's features use: "munge" -> ["libmunge-dev"], ...
  std::map<std::string, std::vector<std::string>> dev_packages;
  // GPU feature packages: "cuda" -> ["libnvidia-ml-dev"], "rocm" -> [...], "oneapi" -> [...]. Not
  // installed by default: a feature passes them as extra packages to the setup script.
  std::map<std::string, std::vector<std::string>> gpu_packages;
  std::vector<PackageRepository> repositories;
  // Extra shell lines for a release's quirks, run after the packages are installed.
  std::vector<std::string> quirks;
  // Sonames a minimal host of this release always has (exact names, or globs such as "libc.so.*"):
  // never bundled in an artifact, and accepted by `verify --deep`.
  std::vector<std::string> system_libraries;
  std::optional<BootstrapRecipe> bootstrap;
  std::string origin;  // where this release was defined ("toolchain-debian/releases.yaml:40:3")
};

// The package set of a release: build tools, dev packages and `extra_packages`, sorted and without
// duplicates. What ToolchainFamily::setup_packages returns unless a family says otherwise.
std::vector<std::string> setup_packages(const ToolchainRelease& release,
                                        const std::vector<std::string>& extra_packages = {});

// True when `soname` is one of the release's system libraries (exact name or glob).
bool is_system_library(const ToolchainRelease& release, const std::string& soname);

// True for a cross build: build_arch is set and differs from arch.
bool is_cross_build(const ToolchainRelease& release);

// Parses a family's release YAML (see plugins/toolchains/*/releases.yaml):
//
//   family: debian
//   defaults: { <release keys shared by every release> }
//   releases:
//     bookworm: { <release keys> }
//
// A release's maps (build_tools, dev_packages, gpu_packages) merge with the defaults key by key;
// other keys replace the default. Throws ConfigurationError with `origin:line:column` and the key
// path on any error (unknown key, wrong type, missing value).
std::vector<ToolchainRelease> parse_toolchain_releases(std::string_view yaml_text,
                                                       const std::string& origin);

class ToolchainFamily {
 public:
  virtual ~ToolchainFamily();
  virtual std::string name() const = 0;
  // The releases the plugin knows.
  virtual std::vector<ToolchainRelease> releases() const = 0;
  // What a site release of this family starts from when it names no `based_on` release (package
  // manager, build tools, dev packages, ...). The default: an empty release of this family.
  virtual ToolchainRelease release_defaults() const;
  // The build image setup script for a release of this family: the POSIX sh script (the RUN step
  // of the image build) that enables repositories, installs setup_packages(release, extra), runs
  // the release's quirks, cleans the package caches and adds the unprivileged builder user;
  // deterministic (the same inputs render the same bytes). The default throws PluginError: a family
  // renders it with its package manager (sf_toolchain/apt.hpp: AptToolchainFamily) or overrides
  // it.
  virtual std::string setup_script(const ToolchainRelease& release,
                                   const std::vector<std::string>& extra_packages) const;
  // How to make the base image offline, when the family can (nullopt otherwise).
  virtual std::optional<BootstrapRecipe> bootstrap_recipe(const ToolchainRelease& release) const;
  // The packages the setup script installs (a plan may need no other). The default:
  // sf::setup_packages(release, extra_packages).
  virtual std::vector<std::string> setup_packages(
      const ToolchainRelease& release, const std::vector<std::string>& extra_packages) const;
  // The commands that make a base rootfs tarball for `recipe` (the family's bootstrap_recipe, its
  // mirror possibly replaced by the config): they must write `tarball` and may use `work_dir`
  // (absent; the core removes what is listed as scratch). nullopt: the family cannot (the
  // default).
  virtual std::optional<RootfsBootstrap> rootfs_bootstrap(const BootstrapRecipe& recipe,
                                                          const std::string& arch,
                                                          const std::string& tarball,
                                                          const std::string& work_dir) const;
};

// A family whose releases come from embedded YAML. It has no package manager: its setup_script is
// the default's error; AptToolchainFamily (sf_toolchain/apt.hpp) and DnfToolchainFamily
// (sf_toolchain/dnf.hpp) add one.
class DataDrivenToolchainFamily : public ToolchainFamily {
 public:
  // Throws ConfigurationError when the YAML is invalid or names another family.
  DataDrivenToolchainFamily(std::string name, std::string_view releases_yaml, std::string origin);
  ~DataDrivenToolchainFamily() override;
  std::string name() const override;
  std::vector<ToolchainRelease> releases() const override;
  ToolchainRelease release_defaults() const override;

 private:
  std::string name_;
  ToolchainRelease defaults_;
  std::vector<ToolchainRelease> releases_;
};

}  // namespace sf
