// Container engines (docker, podman). One Engine-API client in core serves both; plugins differ in
// socket discovery and quirks. This header is the interface the pipeline uses.
// (Owned by the container-backends work: extend it there.)
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sf {

struct EngineInfo {
  std::string engine;  // "docker" | "podman"
  std::string version;
  std::string api_version;
  std::string socket;
  std::string os;
  std::string arch;
};

class ContainerBackend {
 public:
  virtual ~ContainerBackend();
  virtual std::string name() const = 0;
  // Connects (and for podman may start the service). Throws ContainerError naming the socket.
  virtual EngineInfo info() = 0;
  virtual bool image_exists(const std::string& reference) = 0;
};

}  // namespace sf
