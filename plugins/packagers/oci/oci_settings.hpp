// The oci packager's settings (the config's packagers.oci): those of every OS packager
// (package_settings.hpp: name_prefix, install_root, revision, maintainer, compression = gzip) and
// its own: registry (host[:port]/namespace the images are pushed to by --publish all), plain_http
// (default: true for a loopback registry only), roles (which images), compression_level (gzip
// 1..9, default 6).
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "package_settings.hpp"

namespace sf::oci {

inline constexpr std::array<const char*, 5> kRoles{"slurmctld", "slurmd", "slurmdbd", "slurmrestd",
                                                   "login"};

struct OciSettings {
  pkg::PackageSettings package;
  std::string registry;            // "" = none (publishing refuses)
  std::optional<bool> plain_http;  // unset: by the host
  std::vector<std::string> roles;  // in kRoles' order
  int compression_level = 6;
};

// Throws ConfigurationError naming packagers.oci.<key> and what to write.
OciSettings parse_oci_settings(const nlohmann::json& settings);

// The images' tag: "<version>-<toolchain>[-<gpu>...]-<arch>", "-r<revision>" added when the
// revision is not 1 ("24.11.5-trixie-cuda-amd64").
std::string image_tag(const std::string& slurm_version, const std::string& toolchain,
                      const std::vector<std::string>& gpu, const std::string& arch,
                      const std::string& revision);

}  // namespace sf::oci
