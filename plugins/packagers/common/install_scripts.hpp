// The shell (POSIX sh) that OS packages of the view run at install and removal, whatever their
// format: the deb packager wraps it in maintainer scripts, the rpm packager in scriptlets. Every
// value is shell-quoted; each function returns lines for `set -e` scripts that end in `exit 0`.
#pragma once

#include <string>

namespace sf::pkg {

// The slurm group and system user (no home, no login shell), when missing.
std::string create_slurm_user_sh();

// On a first install (no /etc/slurm/slurm.conf): `slurm_install.sh --init-only` from
// <root>/data/slurm_assets writes a one-node configuration of this host; what it created is
// recorded in <state_dir>/generated for remove_generated_sh. A failure is a warning (the package
// stays installed; the admin writes slurm.conf).
std::string first_install_config_sh(const std::string& root, const std::string& state_dir);

// Removes what first_install_config_sh recorded (configuration, keys, spool and log folders) and
// <state_dir>; /etc/slurm when it is empty then.
std::string remove_generated_sh(const std::string& state_dir);

// /etc/profile.d/<name>.sh: the clients on PATH and their manuals on MANPATH for login shells.
std::string profile_script(const std::string& root);

}  // namespace sf::pkg
