// The shared Engine-API container backend, in the static library sf-engine-api
// (plugins/backends/engine_api) that the docker and podman plugins link. They subclass it and add
// only socket discovery and quirks; another in-tree plugin for an Engine-API-compatible engine can
// do the same.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "slurm_factory/container_backend.hpp"

namespace sf {

class EngineApiClient;

struct EngineApiOptions {
  std::string engine;  // "docker" | "podman": the backend's name
  std::string socket;  // unix socket path
  // Added to every container unless the spec names the same ulimit (podman as root: nofile, nproc).
  std::vector<Ulimit> default_ulimits;
};

class EngineApiBackend : public ContainerBackend {
 public:
  explicit EngineApiBackend(EngineApiOptions options);
  ~EngineApiBackend() override;
  EngineApiBackend(const EngineApiBackend&) = delete;
  EngineApiBackend& operator=(const EngineApiBackend&) = delete;

  std::string name() const override;
  EngineInfo info() override;

  bool image_exists(const std::string& reference) override;
  std::optional<ImageInfo> inspect_image(const std::string& reference) override;
  void pull_image(const std::string& reference, const ProgressSink& progress) override;
  std::string import_image(const std::filesystem::path& rootfs_tar, const std::string& reference,
                           const Labels& labels) override;
  std::string build_image(const ImageBuildSpec& spec, const std::string& context_tar,
                          const ProgressSink& progress) override;
  void remove_image(const std::string& reference, bool force) override;
  std::vector<ImageSummary> list_images(const Labels& labels) override;

  std::string create_container(const ContainerSpec& spec) override;
  void start_container(const std::string& id) override;
  std::optional<ContainerInfo> inspect_container(const std::string& id) override;
  bool stream_logs(const std::string& id, const OutputSink& sink,
                   std::chrono::milliseconds timeout) override;
  int exec(const std::string& id, const std::vector<std::string>& command, const OutputSink& sink,
           const std::string& user, const std::vector<std::string>& env) override;
  WaitResult wait_container(const std::string& id, std::chrono::milliseconds timeout) override;
  void copy_out(const std::string& id, const std::string& path, const ByteSink& sink) override;
  void stop_container(const std::string& id, std::chrono::seconds grace) override;
  void kill_container(const std::string& id, const std::string& signal) override;
  void remove_container(const std::string& id, bool force) override;
  std::vector<ContainerSummary> list_containers(const Labels& labels) override;

  const EngineApiOptions& options() const { return options_; }

 protected:
  // Called once before the first request (podman: start the service when nothing answers).
  virtual void before_connect() {}
  // The connected, negotiated client. Throws ContainerError naming the socket.
  EngineApiClient& client();
  EngineApiOptions& mutable_options() { return options_; }

 private:
  EngineApiOptions options_;
  std::unique_ptr<EngineApiClient> client_;
};

// True when an Engine API answers /_ping on `socket` within `timeout`.
bool engine_socket_answers(const std::string& socket, std::chrono::milliseconds timeout);

// "unix:///run/x.sock" -> "/run/x.sock"; "" when the URL is not a unix socket URL.
std::string unix_socket_from_url(const std::string& url);

}  // namespace sf
