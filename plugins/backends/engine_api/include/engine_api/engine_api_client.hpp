// HTTP/1.1 over the engine's unix socket (libcurl CURLOPT_UNIX_SOCKET_PATH), shared by the docker
// and podman backends. Negotiates the API version with /_ping and /version and prefixes every
// versioned path with it. Transport failures and engine error responses become ContainerErrors
// naming the socket, the request and the engine's own message.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine_api/engine_api_backend.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {

// The newest Engine API version this client speaks; older engines are spoken to in theirs.
inline constexpr const char* kMaxEngineApiVersion = "1.41";
inline constexpr const char* kMinEngineApiVersion = "1.40";

struct EngineRequest {
  std::string method = "GET";
  std::string path;  // "/containers/json"; the negotiated "/v1.41" prefix is added when versioned
  std::vector<std::pair<std::string, std::string>> query;
  std::string body;
  std::filesystem::path body_file;  // streamed as the body when not empty
  std::string content_type = "application/json";
  std::vector<std::string> headers;  // extra "Name: value" lines (never logged)
  // When set, a 2xx response body is streamed here instead of being collected.
  std::function<void(std::string_view)> on_data;
  std::chrono::milliseconds timeout{0};  // whole request; 0 = none
  bool versioned = true;
};

struct EngineResponse {
  long status = 0;
  std::string body;                                          // collected body (always for non-2xx)
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  bool timed_out = false;
  std::string header(const std::string& lower_name) const;
  bool ok() const { return status >= 200 && status < 300; }
  // The engine's {"message": ...} or the raw body.
  std::string engine_message() const;
};

class EngineApiClient {
 public:
  explicit EngineApiClient(std::string socket_path);
  ~EngineApiClient();
  EngineApiClient(const EngineApiClient&) = delete;
  EngineApiClient& operator=(const EngineApiClient&) = delete;

  const std::string& socket() const { return socket_; }
  // /_ping (its Api-Version header; /version only when the header is missing); picks
  // min(engine's version, ours). Idempotent. Throws ContainerError. Podman answers /version in
  // about 0.6 s (it asks its runtime and conmon), so the tool's fast paths never wait for it.
  void negotiate();
  const std::string& api_version() const { return api_version_; }
  // The engine's /version answer, fetched on first use.
  const nlohmann::json& version_info();
  bool is_podman() const { return podman_; }

  // Performs one request. Throws ContainerError on transport failure or interrupt (never on an
  // HTTP error status: callers map those with throw_error).
  EngineResponse request(const EngineRequest& req);
  // Convenience: request, and throw a ContainerError (`what` + engine message) unless 2xx.
  EngineResponse request_ok(const EngineRequest& req, const std::string& what,
                            ErrorContext context = {});
  nlohmann::json get_json(const std::string& path, const std::string& what,
                          std::vector<std::pair<std::string, std::string>> query = {});

  [[noreturn]] void throw_error(const EngineResponse& resp, const std::string& what,
                                ErrorContext context) const;

 private:
  std::string url_for(const EngineRequest& req) const;
  void fetch_version();

  std::string socket_;
  std::string api_version_;
  nlohmann::json version_;
  bool podman_ = false;
  bool negotiated_ = false;
  std::mutex handle_mutex_;
  void* handle_ = nullptr;  // a cached CURL* for keep-alive, used when not busy
};

}  // namespace sf
