// Container engines (docker, podman). One Engine-API client in core serves both; plugins differ in
// socket discovery and quirks. This header is the interface the pipeline uses.
//
// Every failure is a ContainerError carrying the engine's message, the socket and the object
// (image, container) involved. Everything the tool creates carries kManagedLabel so `clean`
// removes exactly its own objects.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sf {

// Labels put on every container and image slurm-factory creates.
// Containers: kManagedLabel. Images: kManagedImageLabel (a different key, because containers
// inherit their image's labels and a container someone else runs from our image is not ours).
inline constexpr const char* kManagedLabel = "org.slurm-factory.managed";  // value "true"
inline constexpr const char* kManagedImageLabel = "org.slurm-factory.managed-image";  // "true"
inline constexpr const char* kKindLabel = "org.slurm-factory.kind";  // build, toolchain, base, ...
inline constexpr const char* kToolchainLabel = "org.slurm-factory.toolchain";
inline constexpr const char* kDefinitionHashLabel = "org.slurm-factory.definition-hash";
// A build container's build (the <cache>/logs/<build-id>/ folder: "<UTC time>-<pid>").
inline constexpr const char* kBuildIdLabel = "org.slurm-factory.build-id";

using Labels = std::map<std::string, std::string>;

struct EngineInfo {
  std::string engine;  // "docker" | "podman"
  std::string version;
  std::string api_version;  // the negotiated Engine API version, e.g. "1.41"
  std::string socket;
  std::string os;
  std::string arch;
};

// A bind mount from the host into a container.
struct Mount {
  std::filesystem::path source;  // host path (absolute)
  std::string target;            // path inside the container
  bool read_only = true;
};

struct Ulimit {
  std::string name;  // "nofile", "nproc", ...
  std::int64_t soft = 0;
  std::int64_t hard = 0;
};

enum class NetworkMode { kNone, kDefault };

struct ContainerSpec {
  std::string image;
  std::vector<std::string> command;     // argv; empty = the image's CMD
  std::vector<std::string> entrypoint;  // empty = the image's ENTRYPOINT
  std::vector<std::string> env;         // "KEY=VALUE"
  std::string user;                     // "uid:gid" ("" = the image's user)
  std::string workdir;
  std::string name;  // "" = engine chooses
  Labels labels;     // kManagedLabel is always added by the backend
  std::vector<Mount> mounts;
  double cpus = 0;                // 0 = no limit
  std::int64_t memory_bytes = 0;  // 0 = no limit
  std::int64_t shm_bytes = 0;     // 0 = engine default
  std::int64_t pids_limit = 0;    // 0 = no limit
  std::vector<Ulimit> ulimits;    // backends may add their own defaults (podman: nofile, nproc)
  NetworkMode network = NetworkMode::kNone;
  bool tty = false;
  // Hardening: drop every capability and forbid privilege gain (never privileged).
  bool drop_capabilities = true;
};

struct ContainerInfo {
  std::string id;
  std::string name;
  std::string image;
  std::string state;  // "created", "running", "exited", ...
  bool running = false;
  int exit_code = 0;
  bool oom_killed = false;
  bool tty = false;
  Labels labels;
};

struct ImageInfo {
  std::string id;
  std::vector<std::string> tags;
  Labels labels;
  std::string os;
  std::string arch;
  std::int64_t size = 0;
};

struct ContainerSummary {
  std::string id;
  std::vector<std::string> names;
  std::string image;
  std::string state;
  Labels labels;
};

struct ImageSummary {
  std::string id;
  std::vector<std::string> tags;
  Labels labels;
  std::int64_t size = 0;
};

// Streamed output of a process inside a container (stdout or stderr, in arbitrary chunks).
enum class Stream { kStdout = 1, kStderr = 2 };
using OutputSink = std::function<void(Stream, std::string_view)>;
// Progress lines of a pull / import / build (already decoded from the engine's JSON messages).
using ProgressSink = std::function<void(std::string_view line)>;
// Bytes of a tar stream (copy out).
using ByteSink = std::function<void(std::string_view)>;

struct WaitResult {
  int exit_code = -1;
  bool timed_out = false;
};

struct ImageBuildSpec {
  std::string tag;                              // "slurm-factory/toolchain-bookworm:0123456789ab"
  std::string containerfile = "Containerfile";  // path of the Containerfile inside the context
  Labels labels;                                // kManagedLabel is always added
  std::map<std::string, std::string> build_args;
  bool network = true;  // image builds install packages from a mirror
};

class ContainerBackend {
 public:
  virtual ~ContainerBackend();
  virtual std::string name() const = 0;
  // Connects (and for podman may start the service). Throws ContainerError naming the socket.
  virtual EngineInfo info() = 0;

  // --- images ---
  virtual bool image_exists(const std::string& reference) = 0;
  virtual std::optional<ImageInfo> inspect_image(const std::string& reference) = 0;
  // Pulls with credentials from the standard auth files when present. Throws ContainerError.
  virtual void pull_image(const std::string& reference, const ProgressSink& progress) = 0;
  // Imports a rootfs tar file as image `reference` with `labels`. Returns the image id.
  virtual std::string import_image(const std::filesystem::path& rootfs_tar,
                                   const std::string& reference, const Labels& labels) = 0;
  // Builds from a tar context (bytes of a tar archive holding the Containerfile). Build output
  // goes to `progress` line by line. Returns the image id. Throws ContainerError with the last
  // lines of output on failure.
  virtual std::string build_image(const ImageBuildSpec& spec, const std::string& context_tar,
                                  const ProgressSink& progress) = 0;
  virtual void remove_image(const std::string& reference, bool force) = 0;
  // Images carrying every label in `labels` (value "" matches any value).
  virtual std::vector<ImageSummary> list_images(const Labels& labels) = 0;

  // --- containers ---
  // Returns the new container's id.
  virtual std::string create_container(const ContainerSpec& spec) = 0;
  virtual void start_container(const std::string& id) = 0;
  virtual std::optional<ContainerInfo> inspect_container(const std::string& id) = 0;
  // Streams the container's output (follow) until it exits or `timeout` (0 = none) passes.
  // Returns false when the timeout passed first.
  virtual bool stream_logs(const std::string& id, const OutputSink& sink,
                           std::chrono::milliseconds timeout) = 0;
  // Runs `command` in a running container, streaming its output; returns its exit code.
  virtual int exec(const std::string& id, const std::vector<std::string>& command,
                   const OutputSink& sink, const std::string& user = {},
                   const std::vector<std::string>& env = {}) = 0;
  // Waits for the container to stop. timeout 0 = forever.
  virtual WaitResult wait_container(const std::string& id, std::chrono::milliseconds timeout) = 0;
  // Streams `path` inside the container out as a tar archive.
  virtual void copy_out(const std::string& id, const std::string& path, const ByteSink& sink) = 0;
  virtual void stop_container(const std::string& id, std::chrono::seconds grace) = 0;
  virtual void kill_container(const std::string& id, const std::string& signal = "KILL") = 0;
  // Removes (force: also when running). A container that is already gone is not an error.
  virtual void remove_container(const std::string& id, bool force = true) = 0;
  // Containers (running or not) carrying every label in `labels` (value "" matches any value).
  virtual std::vector<ContainerSummary> list_containers(const Labels& labels) = 0;
};

}  // namespace sf
