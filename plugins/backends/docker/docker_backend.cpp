// The docker container backend: the shared Engine-API backend on Docker's socket.
// Socket: settings.socket, else DOCKER_HOST (unix://PATH), else /var/run/docker.sock.
#include <nlohmann/json.hpp>

#include "engine_api/engine_api_backend.hpp"
#include "slurm_factory/environment.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace {

std::string docker_socket(const nlohmann::json& settings) {
  if (settings.is_object() && settings.contains("socket") && settings["socket"].is_string()) {
    const std::string s = settings["socket"].get<std::string>();
    const std::string path = sf::unix_socket_from_url(s);
    return path.empty() ? s : path;
  }
  if (const std::string host = sf::env("DOCKER_HOST"); !host.empty()) {
    const std::string path = sf::unix_socket_from_url(host);
    if (path.empty()) {
      throw sf::ContainerError(
          "DOCKER_HOST is not a unix socket URL", {{"DOCKER_HOST", host}},
          "set DOCKER_HOST=unix:///path/to/docker.sock (tcp is not supported)");
    }
    return path;
  }
  return "/var/run/docker.sock";
}

void register_plugin(sf::Registry& registry) {
  registry.add_container_backend("docker", [](const nlohmann::json& settings) {
    sf::EngineApiOptions options;
    options.engine = "docker";
    options.socket = docker_socket(settings);
    return std::make_unique<sf::EngineApiBackend>(std::move(options));
  });
}

}  // namespace

SLURM_FACTORY_PLUGIN("backend-docker", "1.0.0", "Docker Engine API container backend",
                     register_plugin)
