#include "engine_api/engine_api_client.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "slurm_factory/cancellation.hpp"
#include "slurm_factory/log.hpp"

namespace sf {
namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensure_curl() { static CurlGlobal once; }

std::string url_escape(CURL* h, const std::string& s) {
  char* e = curl_easy_escape(h, s.c_str(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

struct Transfer {
  CURL* handle = nullptr;
  const EngineRequest* req = nullptr;
  EngineResponse* resp = nullptr;
  std::ifstream* body_file = nullptr;
  std::chrono::steady_clock::time_point deadline{};
  bool has_deadline = false;
  bool interrupted = false;
  std::exception_ptr callback_error;
};

size_t on_write(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
  if (t->req->on_data && status >= 200 && status < 300) {
    try {
      t->req->on_data(std::string_view(ptr, n));
    } catch (...) {
      t->callback_error = std::current_exception();
      return 0;  // aborts the transfer
    }
  } else {
    t->resp->body.append(ptr, n);
  }
  return n;
}

size_t on_header(char* buffer, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nitems;
  std::string line(buffer, n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    const auto b = value.find_first_not_of(" \t");
    const auto e = value.find_last_not_of(" \t\r\n");
    value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    t->resp->headers.emplace_back(std::move(name), std::move(value));
  }
  return n;
}

size_t on_read(char* buffer, size_t size, size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->body_file->read(buffer, static_cast<std::streamsize>(size * nitems));
  return static_cast<size_t>(t->body_file->gcount());
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (cancellation_requested()) {
    t->interrupted = true;
    return 1;
  }
  if (t->has_deadline && std::chrono::steady_clock::now() >= t->deadline) {
    t->resp->timed_out = true;
    return 1;
  }
  return 0;
}

// "1.41" -> {1, 41}
std::pair<int, int> parse_version(const std::string& v) {
  int major = 0;
  int minor = 0;
  if (std::sscanf(v.c_str(), "%d.%d", &major, &minor) < 1) return {0, 0};
  return {major, minor};
}

}  // namespace

std::string EngineResponse::header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

std::string EngineResponse::engine_message() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    return j["message"].get<std::string>();
  }
  std::string b = body;
  while (!b.empty() && (b.back() == '\n' || b.back() == '\r')) b.pop_back();
  if (b.size() > 2000) b = b.substr(0, 2000) + "...";
  return b.empty() ? "HTTP " + std::to_string(status) : b;
}

EngineApiClient::EngineApiClient(std::string socket_path) : socket_(std::move(socket_path)) {
  ensure_curl();
}

EngineApiClient::~EngineApiClient() {
  if (handle_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(handle_));
}

std::string EngineApiClient::url_for(const EngineRequest& req) const {
  std::string url = "http://localhost";
  if (req.versioned && !api_version_.empty()) url += "/v" + api_version_;
  url += req.path;
  return url;
}

EngineResponse EngineApiClient::request(const EngineRequest& req) {
  // One cached handle gives keep-alive; a concurrent request (a kill while logs stream) gets its
  // own handle.
  std::unique_lock lock(handle_mutex_, std::try_to_lock);
  CURL* h = nullptr;
  bool owned = false;
  if (lock.owns_lock()) {
    if (handle_ == nullptr) handle_ = curl_easy_init();
    h = static_cast<CURL*>(handle_);
    curl_easy_reset(h);
  } else {
    h = curl_easy_init();
    owned = true;
  }
  struct Cleanup {
    CURL* h;
    bool owned;
    ~Cleanup() {
      if (owned) curl_easy_cleanup(h);
    }
  } cleanup{h, owned};

  EngineResponse resp;
  Transfer t;
  t.handle = h;
  t.req = &req;
  t.resp = &resp;
  if (req.timeout.count() > 0) {
    t.has_deadline = true;
    t.deadline = std::chrono::steady_clock::now() + req.timeout;
  }

  std::string url = url_for(req);
  if (!req.query.empty()) {
    char sep = '?';
    for (const auto& [k, v] : req.query) {
      url += sep;
      url += url_escape(h, k) + "=" + url_escape(h, v);
      sep = '&';
    }
  }

  curl_slist* headers = nullptr;
  std::ifstream file;
  if (!req.body_file.empty()) {
    file.open(req.body_file, std::ios::binary);
    if (!file) {
      throw ContainerError("cannot read the request body file",
                           {{"file", req.body_file.string()}, {"socket", socket_}});
    }
    t.body_file = &file;
  }
  const bool has_body = !req.body.empty() || !req.body_file.empty() || req.method == "POST";
  if (has_body) headers = curl_slist_append(headers, ("Content-Type: " + req.content_type).c_str());
  for (const auto& hdr : req.headers) headers = curl_slist_append(headers, hdr.c_str());
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // libcurl's own timer ends the request on time; the progress callback alone runs only about
  // once a second while a request idles (a 100 ms wait would last a second).
  if (req.timeout.count() > 0) {
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
  }
  if (!req.body_file.empty()) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    std::error_code ec;
    const auto size = std::filesystem::file_size(req.body_file, ec);
    if (!ec) curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  } else if (has_body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }

  const CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  if (t.callback_error) std::rethrow_exception(t.callback_error);
  if (t.interrupted) {
    throw ContainerError("interrupted", {{"socket", socket_},
                                         {"request", req.method + " " + req.path},
                                         {"signal", std::to_string(cancellation_signal())}});
  }
  if (rc == CURLE_OPERATION_TIMEDOUT && t.has_deadline) resp.timed_out = true;
  if (resp.timed_out) return resp;
  if (rc != CURLE_OK) {
    throw ContainerError(
        std::string("cannot talk to the container engine: ") + curl_easy_strerror(rc),
        {{"socket", socket_}, {"request", req.method + " " + req.path}},
        "start the engine (tests/support/start-engines.sh starts dockerd and the podman service) "
        "or point DOCKER_HOST / CONTAINER_HOST (unix://PATH) or the backend's `socket` setting "
        "at its socket");
  }
  return resp;
}

EngineResponse EngineApiClient::request_ok(const EngineRequest& req, const std::string& what,
                                           ErrorContext context) {
  EngineResponse resp = request(req);
  if (resp.timed_out) {
    context.emplace_back("socket", socket_);
    throw ContainerError(what + ": timed out", std::move(context));
  }
  if (!resp.ok()) throw_error(resp, what, std::move(context));
  return resp;
}

nlohmann::json EngineApiClient::get_json(const std::string& path, const std::string& what,
                                         std::vector<std::pair<std::string, std::string>> query) {
  EngineRequest req;
  req.path = path;
  req.query = std::move(query);
  auto resp = request_ok(req, what);
  auto j = nlohmann::json::parse(resp.body, nullptr, false);
  if (j.is_discarded()) {
    throw ContainerError(what + ": the engine answered with invalid JSON",
                         {{"socket", socket_}, {"request", "GET " + path}});
  }
  return j;
}

void EngineApiClient::throw_error(const EngineResponse& resp, const std::string& what,
                                  ErrorContext context) const {
  context.emplace_back("engine says", resp.engine_message());
  context.emplace_back("http status", std::to_string(resp.status));
  context.emplace_back("socket", socket_);
  std::string hint;
  if (resp.status == 404) hint = "check the name; list what exists with the engine's own tools";
  if (resp.status == 409)
    hint = "the object is in use or in the wrong state; `slurm-factory clean` removes ours";
  throw ContainerError(what, std::move(context), hint);
}

void EngineApiClient::fetch_version() {
  EngineRequest ver;
  ver.path = "/version";
  ver.versioned = false;
  ver.timeout = std::chrono::seconds(10);
  auto v = request(ver);
  version_ = nlohmann::json::parse(v.body, nullptr, false);
  if (v.timed_out || !v.ok() || !version_.is_object()) {
    version_ = nlohmann::json::object();
    throw ContainerError("the container engine's /version answer is unusable",
                         {{"socket", socket_}, {"http status", std::to_string(v.status)}});
  }
  if (version_.contains("Components") && version_["Components"].is_array()) {
    for (const auto& c : version_["Components"]) {
      if (c.value("Name", "").find("Podman") != std::string::npos) podman_ = true;
    }
  }
}

const nlohmann::json& EngineApiClient::version_info() {
  if (!version_.is_object() || version_.empty()) fetch_version();
  return version_;
}

void EngineApiClient::negotiate() {
  if (negotiated_) return;
  EngineRequest ping;
  ping.path = "/_ping";
  ping.versioned = false;
  ping.timeout = std::chrono::seconds(10);
  auto pong = request(ping);
  if (pong.timed_out || !pong.ok()) {
    throw ContainerError("the container engine does not answer /_ping",
                         {{"socket", socket_}, {"http status", std::to_string(pong.status)}},
                         "check that the engine is running and healthy");
  }
  podman_ = !pong.header("libpod-api-version").empty();
  // Docker and Podman both send Api-Version with /_ping; older engines only in /version.
  std::string server = pong.header("api-version");
  if (server.empty()) {
    fetch_version();
    server = version_.value("ApiVersion", "");
  }
  const auto ours = parse_version(kMaxEngineApiVersion);
  const auto theirs = parse_version(server);
  if (theirs < parse_version(kMinEngineApiVersion)) {
    throw ContainerError("the container engine's API is too old",
                         {{"socket", socket_},
                          {"engine API version", server},
                          {"needed at least", kMinEngineApiVersion}},
                         "upgrade Docker (>= 20.10) or Podman (>= 4.0)");
  }
  const auto chosen = std::min(ours, theirs);
  api_version_ = std::to_string(chosen.first) + "." + std::to_string(chosen.second);
  negotiated_ = true;
  log().debug("engine on {}: {} (API {}, {} speaks {})", socket_, podman_ ? "podman" : "docker",
              pong.header("server"), server, "slurm-factory", api_version_);
}

bool engine_socket_answers(const std::string& socket, std::chrono::milliseconds timeout) {
  std::error_code ec;
  if (!std::filesystem::exists(socket, ec)) return false;
  try {
    EngineApiClient c(socket);
    EngineRequest ping;
    ping.path = "/_ping";
    ping.versioned = false;
    ping.timeout = timeout;
    auto r = c.request(ping);
    return !r.timed_out && r.ok();
  } catch (const ContainerError&) {
    return false;
  }
}

}  // namespace sf
