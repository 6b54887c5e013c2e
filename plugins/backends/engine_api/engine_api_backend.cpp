// The ContainerBackend operations over the Engine API (Docker API 1.40+ / Podman's compat API).
#include "engine_api/engine_api_backend.hpp"

#include "engine_api/engine_api_client.hpp"
#include "slurm_factory/log.hpp"

namespace sf {

std::string unix_socket_from_url(const std::string& url) {
  const std::string prefix = "unix://";
  if (url.rfind(prefix, 0) != 0) return {};
  return url.substr(prefix.size());
}

EngineApiBackend::EngineApiBackend(EngineApiOptions options) : options_(std::move(options)) {}
EngineApiBackend::~EngineApiBackend() = default;

std::string EngineApiBackend::name() const { return options_.engine; }

EngineApiClient& EngineApiBackend::client() {
  if (!client_) {
    before_connect();
    auto c = std::make_unique<EngineApiClient>(options_.socket);
    try {
      c->negotiate();
    } catch (SlurmFactoryError& e) {
      e.with("backend", options_.engine);
      throw;
    }
    client_ = std::move(c);
  }
  return *client_;
}

EngineInfo EngineApiBackend::info() {
  auto& c = client();
  const auto& v = c.version_info();
  return EngineInfo{options_.engine, v.value("Version", ""), c.api_version(),
                    options_.socket, v.value("Os", ""),      v.value("Arch", "")};
}

}  // namespace sf
