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

// A registry's user name and password, as `docker login` stored them.
struct RegistryCredentials {
  std::string username;
  std::string password;
};

// The credentials of `registry` ("ghcr.io", "127.0.0.1:5000") from the first of `files` that has
// them (keys "host", "https://host", "http://host"; docker.io's legacy names too).
std::optional<RegistryCredentials> registry_credentials(
    const std::string& registry, const std::vector<std::filesystem::path>& files);

// "Basic <base64(user:password)>", an HTTP Authorization header value.
std::string basic_authorization(const RegistryCredentials& credentials);

// The X-Registry-Auth header value (base64url JSON) for the image's registry, when a file has one.
std::optional<std::string> registry_auth_header(const std::string& image_reference,
                                                const std::vector<std::filesystem::path>& files);

}  // namespace sf
