// One HTTP client for the whole tool (source downloads, S3 and HTTP cache layers, plugins), built
// on libcurl: GET to a file with resume (Range), HEAD, PUT from a file or memory, conditional
// requests, connect / low-speed / total timeouts, retries with exponential backoff and jitter on
// 5xx, 429 and timeouts, a request-signing hook (RequestSigner: the s3 plugin's SigV4), a progress
// callback, and HTTP over a unix socket. URLs and bodies that appear in logs and Failures are
// redacted: user info, signature and token query parameters, every registered secret and the
// signer's secrets.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf::http {

struct RetryPolicy {
  int max_attempts = 4;  // total attempts, 1 = no retry
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{8000};
  double jitter = 0.5;  // each wait is backoff * (1 - jitter + random[0, jitter])
};

struct Timeouts {
  std::chrono::milliseconds connect{15000};
  // A transfer slower than low_speed_bytes per second for low_speed_time is a timeout (a hang).
  long low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{60};
  std::chrono::milliseconds total{0};  // 0: no limit on the whole transfer
};

// Bytes done and expected (0 when unknown) for the current transfer direction.
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request;

// What a RequestSigner adds to one attempt of a request.
struct RequestSignature {
  Headers headers;  // sent after the request's own headers
  // libcurl's V4 signing (CURLOPT_AWS_SIGV4: an HMAC-SHA256 signature over the canonical request,
  // scheme "provider1[:provider2[:region[:service]]]") with key_id and secret as the credentials;
  // empty: libcurl signs nothing.
  std::string curl_v4_scheme;
  std::string key_id;
  std::string secret;
};

// Signs the requests of a service that wants it (the s3 plugin's SigV4); the client knows no
// provider. Called before every attempt, once the body's SHA-256 is known.
class RequestSigner {
 public:
  virtual ~RequestSigner() = default;
  // `payload_sha256`: lower-case hex SHA-256 of the body about to be sent. A Failure ends the
  // request (no retry).
  virtual Expected<RequestSignature> sign(const Request& request,
                                          const std::string& payload_sha256) const = 0;
  // Strings never to be shown (keys, tokens): blanked out of every log line and Failure about a
  // request it signs.
  virtual std::vector<std::string> secrets() const = 0;
};

struct Request {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  Headers headers;
  // Request body: a slice of a file (PUT / POST) or, when upload_file is empty, `body`.
  std::filesystem::path upload_file;
  std::uint64_t upload_offset = 0;
  std::uint64_t upload_length = std::numeric_limits<std::uint64_t>::max();  // max: to the end
  std::string body;
  bool send_body = false;  // send `body` even when empty (POST / PUT of zero bytes)
  // Response body: to this file (only when the status is 2xx), else into Response::body.
  std::filesystem::path download_file;
  // With download_file: continue a partial file with a Range request (206 appends; 200 rewrites).
  bool resume = false;
  // Conditional requests; a 304 answer is a Response with status 304.
  std::string if_none_match;                    // an ETag
  std::string if_modified_since;                // an HTTP date
  std::shared_ptr<const RequestSigner> signer;  // none: the request goes out unsigned
  // Hex sha256 of the body for the signer; computed from the body when empty.
  std::string payload_sha256;
  std::string unix_socket;  // talk HTTP over this socket (container engines)
};

struct Response {
  long status = 0;
  Headers headers;   // names lower-cased, in arrival order (final response only)
  std::string body;  // the body when not written to download_file (error bodies always here)
  std::uint64_t downloaded = 0;  // bytes written to download_file in this request
  int attempts = 0;
  // Value of a header (name case-insensitive) or "".
  std::string header(const std::string& name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

// How many bytes of a response body a request may receive (ABI 1.2). A body kept in memory
// (Response::body, e.g. an S3 listing or an index.json) larger than max_body, or a body written to
// Request::download_file larger than max_download, stops the transfer with a Failure that says
// which cap was hit ("the server sent more than N bytes"); nothing is retried and a download file
// is removed. A response is never silently cut short.
inline constexpr std::uint64_t kDefaultMaxBody = std::uint64_t{64} << 20;  // 64 MiB
struct BodyLimits {
  std::uint64_t max_body = kDefaultMaxBody;
  // Set it to the size the manifest or the listing declares (default: no cap).
  std::uint64_t max_download = std::numeric_limits<std::uint64_t>::max();
};

struct ClientOptions {
  Timeouts timeouts;
  RetryPolicy retry;
  std::string user_agent;  // default "slurm-factory/<version>"
  ProgressFn progress;
  bool verify_tls = true;
  std::string ca_file;  // extra CA bundle; "" = system default
  bool follow_redirects = true;
  // Extra strings to blank out of every log line and Failure (tokens, passwords).
  std::vector<std::string> secrets;
};

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  const ClientOptions& options() const;
  ClientOptions& options();

  // Performs the request, retrying transport errors, timeouts, 5xx and 429 with backoff. Returns
  // the final Response whatever its status (use status_failure() to turn a bad one into a
  // Failure); a Failure only when no response arrived (Failure::Kind::kTimeout for timeouts).
  // The body is capped by BodyLimits{} (64 MiB in memory, downloads unbounded).
  Expected<Response> perform(const Request& request);
  // The same with explicit caps (ABI 1.2).
  Expected<Response> perform(const Request& request, const BodyLimits& limits);

  // Conveniences. They return a Failure for any non-2xx status (304 is a success for get_to_file).
  Expected<Response> get(const std::string& url, const Headers& headers = {});
  Expected<Response> get_to_file(const std::string& url, const std::filesystem::path& file,
                                 bool resume = true, const Headers& headers = {});
  // get_to_file refusing a body longer than max_bytes (ABI 1.2).
  Expected<Response> get_to_file_at_most(const std::string& url, const std::filesystem::path& file,
                                         std::uint64_t max_bytes, bool resume = true,
                                         const Headers& headers = {});
  Expected<Response> head(const std::string& url, const Headers& headers = {});
  Expected<Response> put_file(const std::string& url, const std::filesystem::path& file,
                              const Headers& headers = {});

  // The URL and the message as they may be shown: user info, signatures, tokens and the
  // registered secrets replaced by "***".
  std::string redact(const std::string& text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Maps a bad status to a Failure: 404/410 not_found, 401/403 unauthorized, 408/504 timeout, else
// error. The message names the method, the redacted URL, the status and an excerpt of the body.
Failure status_failure(const Request& request, const Response& response,
                       const std::vector<std::string>& secrets = {});

// Performs `request` (a GET; its download_file and resume are set here) into `destination` by way
// of "<destination>.part" in the same folder (the folder is created), renamed into place only
// when the transfer completed with a 2xx status, so no reader ever sees a partial file. On a
// transfer failure or another status the part file is removed and nothing is at `destination`;
// a status is returned as the Response (not a Failure) so the caller maps it in its own words.
Expected<Response> download_to_file(HttpClient& client, Request request,
                                    const std::filesystem::path& destination,
                                    const BodyLimits& limits = {});

// A URL with its user info and credential query parameters (X-Amz-Signature, X-Amz-Credential,
// X-Amz-Security-Token, Signature, token, access_token, sig, password) replaced by "***".
std::string redact_url(const std::string& url);
// Replaces every occurrence of each non-empty secret (and any URL inside `text`) by "***".
std::string redact_text(std::string text, const std::vector<std::string>& secrets);

// Percent-encodes per RFC 3986: unreserved characters (A-Z a-z 0-9 - _ . ~) stay, every other byte
// is %XX (upper-case hex); '/' stays when keep_slash. The canonical form SigV4 signs, too.
std::string uri_encode(const std::string& text, bool keep_slash = false);

}  // namespace sf::http
