// The text of a .deb's control members: the control file, conffiles, md5sums and the maintainer
// scripts, and the Debian version and dependency strings they are made of.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "package_layout.hpp"
#include "package_settings.hpp"
#include "slurm_factory/packager.hpp"

namespace sf::deb {

using pkg::Role;

// The settings of the deb packager (the config's packagers.deb), checked.
using DebSettings = pkg::PackageSettings;

// "24.11.5" -> "24.11.5-1+trixie"; "24.11.0-rc1" -> "24.11.0~rc1-1+trixie" (sorts before the
// release).
std::string debian_version(const std::string& slurm_version, const std::string& revision,
                           const std::string& toolchain);
// A package version without its Debian revision ("2.41-12" -> "2.41", "1:2.3-4" -> "1:2.3").
std::string upstream_version(const std::string& version);

// "<prefix>[<gpu>-...]<role>": slurm-factory-slurmd, slurm-factory-cuda-slurmd.
std::string package_name(const DebSettings& settings, const std::vector<std::string>& gpu,
                         Role role);

// The Depends of the common package: the OS packages of the system libraries (each once, at
// least the build image's upstream version) and munge (the OS's munged serves the bundled
// libmunge), sorted.
std::string common_depends(const std::vector<SystemLibraryPackage>& system_packages);

// The Depends of the other packages: the common package of the same version, and the C library
// (their programs link it).
std::string role_depends(const std::string& common, const std::string& version,
                         const std::vector<SystemLibraryPackage>& system_packages);

struct ControlFields {
  std::string package;
  std::string version;
  std::string arch;
  std::string maintainer;
  std::string depends;
  std::string conflicts;  // also Replaces and Provides (a GPU flavour against the plain one)
  std::uint64_t installed_kib = 0;
  std::string summary;
  std::string description;  // more lines, each shown indented by one space
};
std::string control_text(const ControlFields& fields);

// Maintainer scripts ("" = none). `root`: where view/ lives on the target; `unit`: the daemon's
// unit ("slurmd"), "" for none; `state`: /var/lib/<package> (what postinst generated, for purge).
struct ScriptContext {
  Role role = Role::kCommon;
  std::string root;
  std::string unit;
  std::string state_dir;
};
std::string postinst_script(const ScriptContext& c);
std::string prerm_script(const ScriptContext& c);
std::string postrm_script(const ScriptContext& c);

// "<md5>  <path without leading />\n" sorted by path.
std::string md5sums_text(const std::map<std::string, std::string>& md5_by_path);

}  // namespace sf::deb
