// The spec file rpmbuild packs the view's split packages from (package_layout.hpp): one build, a
// main package <prefix>common and the others as subpackages, each with its file list, Requires
// from the ELF scan (the sonames the view needs from the OS, as RPM's own capabilities), and
// scriptlets written as systemd's RPM macros expand. Nothing is built: the buildroot is the staged
// tree, and the brp scripts, debug packages and automatic dependencies are off.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "package_layout.hpp"
#include "package_settings.hpp"
#include "slurm_factory/packager.hpp"

namespace sf::rpm {

using pkg::Role;

// The settings (packagers.rpm); `maintainer` is the Packager tag, `compression` the payload's
// (zstd | xz | gzip).
using RpmSettings = pkg::PackageSettings;

// "24.11.5" -> "24.11.5"; "24.11.0-rc1" -> "24.11.0~rc1"; "24.11.5-2" -> "24.11.5.2".
std::string rpm_version(const std::string& slurm_version);
// "<revision>.<toolchain>" ("1.rockylinux9"; '-' becomes '_').
std::string rpm_release(const std::string& revision, const std::string& toolchain);
// amd64 -> x86_64, arm64 -> aarch64 (others unchanged).
std::string rpm_arch(const std::string& debian_arch);
// <prefix>[<gpu>-]<role>
std::string package_name(const RpmSettings& settings, const std::vector<std::string>& gpu,
                         Role role);
// "libc.so.6()(64bit)" for each soname the view needs from the OS (64-bit arches), then munge.
std::vector<std::string> common_requires(const std::vector<SystemLibraryPackage>& system_packages,
                                         const std::string& debian_arch);

// One line of a %files list for `path` (absolute): quoted, '%' doubled; `config` marks a
// %config(noreplace), `dir` a %dir.
std::string files_line(const std::string& path, bool config = false, bool dir = false);

struct SpecPackage {
  Role role = Role::kCommon;
  std::string name;
  std::string summary;
  std::string files_list;  // absolute path of its %files list
  std::string unit;        // the daemon's unit ("slurmd"), "" for none
};

struct SpecInput {
  RpmSettings settings;
  ArtifactDescription artifact;
  std::string root;                   // the install root
  std::vector<SpecPackage> packages;  // the common package first
  std::string compression_macro;      // "w3.zstdio"
  std::string changelog_date;         // "Tue Nov 14 2023"
};

std::string spec_text(const SpecInput& input);

}  // namespace sf::rpm
