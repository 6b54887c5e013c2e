// Registry credentials for image pulls, read from the standard auth files (never from argv):
// $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json,
// $DOCKER_CONFIG/config.json, ~/.docker/config.json. The first file holding an entry for the
// image's registry wins.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sf {

// "ghcr.io/org/img:1" -> "ghcr.io"; "ubuntu:24.04" -> "docker.io".
std::string registry_of(const std::string& image_reference);

std::vector<std::filesystem::path> registry_auth_files();

// The X-Registry-Auth header value (base64url JSON) for the image's registry, when a file has one.
std::optional<std::string> registry_auth_header(const std::string& image_reference,
                                                const std::vector<std::filesystem::path>& files);

}  // namespace sf
