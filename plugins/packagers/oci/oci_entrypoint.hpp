// The entrypoint of every image the oci packager makes: a POSIX sh script at
// /usr/local/sbin/slurm-factory-entrypoint that checks what the role needs (the cluster's munge
// key, slurm.conf or slurmdbd.conf, mounted by the admin), starts munged from the view and then the
// role's daemon in the foreground as PID 1. docs/packaging.md shows the docker and podman
// commands.
#pragma once

#include <string>

namespace sf::oci {

inline constexpr const char* kEntrypointPath = "usr/local/sbin/slurm-factory-entrypoint";

// The script for a view installed under `install_root` ("/opt/slurm": the view in
// /opt/slurm/view). `install_root` must be a plain absolute path (package_settings checks it).
std::string entrypoint_script(const std::string& install_root);

}  // namespace sf::oci
