#include "slurm_factory/http_client.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <random>
#include <thread>

#include "net/ascii.hpp"
#include "net/curl_transfer.hpp"
#include "slurm_factory/log.hpp"

namespace sf::http {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool retryable_status(long s) { return s == 429 || s == 408 || (s >= 500 && s <= 599 && s != 501); }

}  // namespace

std::string Response::header(const std::string& name) const {
  const auto key = ascii_lower(name);
  for (const auto& [k, v] : headers) {
    if (k == key) return v;
  }
  return {};
}

struct HttpClient::Impl {
  ClientOptions options;
  CURL* curl = nullptr;
  std::mt19937_64 rng{std::random_device{}()};

  ~Impl() {
    if (curl) curl_easy_cleanup(curl);
  }

  std::vector<std::string> secrets_for(const Request& r) const {
    auto s = options.secrets;
    if (r.signer) {
      for (auto& secret : r.signer->secrets()) s.push_back(std::move(secret));
    }
    return s;
  }

  std::chrono::milliseconds backoff(int attempt, const Response* last) {
    const auto& rp = options.retry;
    double base = static_cast<double>(rp.initial_backoff.count());
    for (int i = 1; i < attempt; ++i) base *= 2;
    base = std::min(base, static_cast<double>(rp.max_backoff.count()));
    std::uniform_real_distribution<double> d(0.0, std::max(0.0, rp.jitter));
    double wait = base * (1.0 - rp.jitter + d(rng));
    if (last) {
      // Retry-After in seconds, when the server asks and it is within our limit.
      auto ra = last->header("retry-after");
      if (!ra.empty() && std::all_of(ra.begin(), ra.end(), ::isdigit)) {
        double s = std::stod(ra) * 1000.0;
        if (s <= static_cast<double>(rp.max_backoff.count())) wait = std::max(wait, s);
      }
    }
    return std::chrono::milliseconds(static_cast<long long>(wait));
  }

  // One attempt on the kept handle.
  CURLcode attempt(const Request& r, const BodyLimits& limits, Response& response, bool resume,
                   std::string& error_text, bool& over_limit) {
    if (!curl)
      curl = curl_easy_init();
    else
      curl_easy_reset(curl);
    return perform_attempt(curl, options, r, limits, response, resume, error_text, over_limit);
  }
};

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->options = std::move(options);
  if (impl_->options.user_agent.empty()) impl_->options.user_agent = "slurm-factory/" SF_VERSION;
}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

const ClientOptions& HttpClient::options() const { return impl_->options; }
ClientOptions& HttpClient::options() { return impl_->options; }

std::string HttpClient::redact(const std::string& text) const {
  return redact_text(text, impl_->options.secrets);
}

Expected<Response> HttpClient::perform(const Request& request) {
  return perform(request, BodyLimits{});
}

Expected<Response> HttpClient::perform(const Request& request, const BodyLimits& limits) {
  const auto secrets = impl_->secrets_for(request);
  const std::string shown = redact_text(request.url, secrets);
  const std::string method = request.method.empty() ? "GET" : request.method;
  const int max_attempts = std::max(1, impl_->options.retry.max_attempts);
  bool resume = request.resume;
  Response response;
  for (int attempt = 1;; ++attempt) {
    std::string error_text;
    bool over_limit = false;
    sf::log().debug("{} {} (attempt {})", method, shown, attempt);
    const CURLcode rc = impl_->attempt(request, limits, response, resume, error_text, over_limit);
    if (over_limit) {
      // Not a transient fault: the same server would send the same too-long body again.
      return Failure::error(method + " " + shown + ": " + error_text);
    }
    response.attempts = attempt;
    // A retried download continues what this call already wrote.
    if (!request.download_file.empty() && response.downloaded > 0 && response.ok()) resume = true;
    const bool transport_retry = rc != CURLE_OK && retryable_code(rc);
    const bool status_retry = rc == CURLE_OK && retryable_status(response.status);
    if ((transport_retry || status_retry) && attempt < max_attempts) {
      auto wait = impl_->backoff(attempt, status_retry ? &response : nullptr);
      sf::log().warn("{} {}: {}; retrying in {} ms (attempt {} of {})", method, shown,
                     status_retry ? "HTTP " + std::to_string(response.status)
                                  : redact_text(error_text, secrets),
                     wait.count(), attempt + 1, max_attempts);
      std::this_thread::sleep_for(wait);
      continue;
    }
    if (rc != CURLE_OK) {
      std::string msg = method + " " + shown + " failed after " + std::to_string(attempt) +
                        (attempt == 1 ? " attempt: " : " attempts: ") +
                        redact_text(error_text, secrets);
      if (rc == CURLE_OPERATION_TIMEDOUT) return Failure::timeout(msg);
      return Failure::error(msg);
    }
    return response;
  }
}

namespace {

// `request` performed, a status other than 2xx (or 304 when `not_modified_ok`) a Failure.
Expected<Response> perform_expecting_success(HttpClient& client, const Request& request,
                                             const BodyLimits& limits, bool not_modified_ok,
                                             const std::vector<std::string>& secrets) {
  auto res = client.perform(request, limits);
  if (!res) return res.error();
  if (!res->ok() && !(not_modified_ok && res->status == 304))
    return status_failure(request, *res, secrets);
  return res;
}

Request make_request(std::string method, const std::string& url, const Headers& headers) {
  Request r;
  r.method = std::move(method);
  r.url = url;
  r.headers = headers;
  return r;
}

}  // namespace

Expected<Response> HttpClient::get(const std::string& url, const Headers& headers) {
  return perform_expecting_success(*this, make_request("GET", url, headers), BodyLimits{}, false,
                                   impl_->options.secrets);
}

Expected<Response> HttpClient::get_to_file(const std::string& url,
                                           const std::filesystem::path& file, bool resume,
                                           const Headers& headers) {
  return get_to_file_at_most(url, file, BodyLimits{}.max_download, resume, headers);
}

Expected<Response> HttpClient::get_to_file_at_most(const std::string& url,
                                                   const std::filesystem::path& file,
                                                   std::uint64_t max_bytes, bool resume,
                                                   const Headers& headers) {
  Request r = make_request("GET", url, headers);
  r.download_file = file;
  r.resume = resume;
  BodyLimits limits;
  limits.max_download = max_bytes;
  return perform_expecting_success(*this, r, limits, true, impl_->options.secrets);
}

Expected<Response> HttpClient::head(const std::string& url, const Headers& headers) {
  return perform_expecting_success(*this, make_request("HEAD", url, headers), BodyLimits{}, false,
                                   impl_->options.secrets);
}

Expected<Response> HttpClient::put_file(const std::string& url, const std::filesystem::path& file,
                                        const Headers& headers) {
  Request r = make_request("PUT", url, headers);
  r.upload_file = file;
  return perform_expecting_success(*this, r, BodyLimits{}, false, impl_->options.secrets);
}

Expected<Response> download_to_file(HttpClient& client, Request request,
                                    const std::filesystem::path& destination,
                                    const BodyLimits& limits) {
  std::error_code ec;
  if (!destination.parent_path().empty()) {
    std::filesystem::create_directories(destination.parent_path(), ec);
    if (ec) {
      return Failure::error("cannot create " + destination.parent_path().string() +
                            " for the download of " + redact_url(request.url) + ": " +
                            ec.message() + "; check the folder's permissions and free space");
    }
  }
  const std::filesystem::path part = destination.string() + ".part";
  request.download_file = part;
  request.resume = false;
  auto r = client.perform(request, limits);
  if (!r || !r->ok()) {
    std::filesystem::remove(part, ec);
    return r;
  }
  std::filesystem::rename(part, destination, ec);
  if (ec) {
    std::filesystem::remove(part, ec);
    return Failure::error("cannot rename " + part.string() + " into " + destination.string() +
                          ": " + ec.message() + "; check the folder's permissions and free space");
  }
  return r;
}

Failure status_failure(const Request& request, const Response& response,
                       const std::vector<std::string>& secrets) {
  auto all = secrets;
  if (request.signer) {
    for (auto& secret : request.signer->secrets()) all.push_back(std::move(secret));
  }
  std::string excerpt = response.body.substr(0, 400);
  std::replace(excerpt.begin(), excerpt.end(), '\n', ' ');
  std::string msg = (request.method.empty() ? std::string("GET") : request.method) + " " +
                    redact_text(request.url, all) + ": HTTP " + std::to_string(response.status);
  if (!excerpt.empty()) msg += " (" + redact_text(excerpt, all) + ")";
  const long s = response.status;
  if (s == 404 || s == 410) return Failure::not_found(msg);
  if (s == 401 || s == 403) return Failure::unauthorized(msg);
  if (s == 408 || s == 504) return Failure::timeout(msg);
  return Failure::error(msg);
}

}  // namespace sf::http
