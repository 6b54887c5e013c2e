#include "slurm_factory/http_client.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>

#include "slurm_factory/digest.hpp"
#include "slurm_factory/log.hpp"
#include "support/file_io.hpp"

namespace sf::http {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// State of one attempt.
struct Transfer {
  const Request* request = nullptr;
  Response* response = nullptr;
  bool resumed_from = false;  // a Range request was sent
  std::uint64_t resume_offset = 0;
  FilePtr out;
  bool out_failed = false;
  std::string out_error;
  // upload
  FilePtr in;
  std::uint64_t in_remaining = 0;
  std::uint64_t in_total = 0;
  std::size_t body_pos = 0;
  const ProgressFn* progress = nullptr;
  const BodyLimits* limits = nullptr;
  bool over_limit_hit = false;
  std::uint64_t over_limit = 0;  // the cap a body went past
};

std::string human_bytes(std::uint64_t n) {
  if (n >= (std::uint64_t{1} << 20) && n % (std::uint64_t{1} << 20) == 0)
    return std::to_string(n >> 20) + " MiB";
  return std::to_string(n) + " bytes";
}

size_t header_cb(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  std::string line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after 100-continue or a redirect): start over.
    t->response->headers.clear();
    auto sp = line.find(' ');
    t->response->status =
        sp == std::string::npos ? 0 : std::strtol(line.c_str() + sp + 1, nullptr, 10);
    return len;
  }
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    t->response->headers.emplace_back(lower(trim(line.substr(0, colon))),
                                      trim(line.substr(colon + 1)));
  }
  return len;
}

size_t write_cb(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  const long status = t->response->status;
  const bool to_file = !t->request->download_file.empty() && status >= 200 && status < 300;
  if (!to_file) {
    if (status >= 200 && status < 300) {
      // A body the caller reads (a listing, an index.json): whole or refused, never cut short.
      if (t->response->body.size() + len > t->limits->max_body) {
        t->over_limit = t->limits->max_body;
        t->over_limit_hit = true;
        return 0;
      }
      t->response->body.append(data, len);
      return len;
    }
    // Error bodies are kept (bounded) for the message only.
    if (t->response->body.size() < (1U << 20)) t->response->body.append(data, len);
    return len;
  }
  {
    const std::uint64_t before =
        (status == 206 && t->resumed_from ? t->resume_offset : 0) + t->response->downloaded;
    if (len > t->limits->max_download || before > t->limits->max_download - len) {
      t->over_limit = t->limits->max_download;
      t->over_limit_hit = true;
      return 0;
    }
  }
  if (!t->out) {
    const bool append = status == 206 && t->resumed_from;
    t->out.reset(std::fopen(t->request->download_file.c_str(), append ? "ab" : "wb"));
    if (!t->out) {
      t->out_failed = true;
      t->out_error = std::error_code(errno, std::generic_category()).message();
      return 0;
    }
  }
  if (std::fwrite(data, 1, len, t->out.get()) != len) {
    t->out_failed = true;
    t->out_error = std::error_code(errno, std::generic_category()).message();
    return 0;
  }
  t->response->downloaded += len;
  return len;
}

size_t read_cb(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t want = size * n;
  if (t->in) {
    const auto chunk = static_cast<size_t>(std::min<std::uint64_t>(want, t->in_remaining));
    if (chunk == 0) return 0;
    const size_t got = std::fread(buffer, 1, chunk, t->in.get());
    if (got == 0 && std::ferror(t->in.get())) return CURL_READFUNC_ABORT;
    t->in_remaining -= got;
    return got;
  }
  const std::string& body = t->request->body;
  const size_t chunk = std::min(want, body.size() - t->body_pos);
  std::copy_n(body.data() + t->body_pos, chunk, buffer);
  t->body_pos += chunk;
  return chunk;
}

int seek_cb(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  const auto off = static_cast<std::uint64_t>(offset);
  if (t->in) {
    if (off > t->in_total) return CURL_SEEKFUNC_FAIL;
    if (fseeko(t->in.get(), static_cast<off_t>(t->request->upload_offset + off), SEEK_SET) != 0)
      return CURL_SEEKFUNC_FAIL;
    t->in_remaining = t->in_total - off;
    return CURL_SEEKFUNC_OK;
  }
  if (off > t->request->body.size()) return CURL_SEEKFUNC_FAIL;
  t->body_pos = static_cast<size_t>(off);
  return CURL_SEEKFUNC_OK;
}

int progress_cb(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  if (t->progress && *t->progress) {
    if (ultotal > 0 || ulnow > 0) {
      (*t->progress)(static_cast<std::uint64_t>(ulnow), static_cast<std::uint64_t>(ultotal));
    } else {
      (*t->progress)(t->resume_offset + static_cast<std::uint64_t>(dlnow),
                     dltotal > 0 ? t->resume_offset + static_cast<std::uint64_t>(dltotal) : 0);
    }
  }
  return 0;
}

bool retryable_code(CURLcode c) {
  switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool retryable_status(long s) { return s == 429 || s == 408 || (s >= 500 && s <= 599 && s != 501); }

std::uint64_t file_size_or_zero(const std::filesystem::path& p) {
  std::error_code ec;
  auto s = std::filesystem::file_size(p, ec);
  return ec ? 0 : s;
}

// "bytes */1234" or "bytes 0-9/1234" -> 1234; 0 when unknown.
std::uint64_t content_range_total(const std::string& v) {
  auto slash = v.rfind('/');
  if (slash == std::string::npos || v.compare(slash + 1, 1, "*") == 0) return 0;
  return std::strtoull(v.c_str() + slash + 1, nullptr, 10);
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::string Response::header(const std::string& name) const {
  const auto key = lower(name);
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
    if (r.aws) {
      s.push_back(r.aws->secret_access_key);
      s.push_back(r.aws->session_token);
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

  // One attempt. Returns the CURLcode; fills response.
  CURLcode attempt(const Request& r, const BodyLimits& limits, Response& response, bool resume,
                   std::string& error_text, bool& over_limit) {
    over_limit = false;
    if (!curl)
      curl = curl_easy_init();
    else
      curl_easy_reset(curl);
    char errbuf[CURL_ERROR_SIZE] = {0};
    Transfer t;
    t.request = &r;
    t.response = &response;
    t.progress = &options.progress;
    t.limits = &limits;
    response.status = 0;
    response.headers.clear();
    response.body.clear();
    response.downloaded = 0;

    std::unique_ptr<curl_slist, SlistDeleter> headers;
    auto add_header = [&](const std::string& h) {
      headers.reset(curl_slist_append(headers.release(), h.c_str()));
    };

    curl_easy_setopt(curl, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.timeouts.connect.count()));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options.timeouts.low_speed_bytes);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(options.timeouts.low_speed_time.count()));
    if (options.timeouts.total.count() > 0)
      curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeouts.total.count()));
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, options.follow_redirects ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
    if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
    if (!r.unix_socket.empty())
      curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, r.unix_socket.c_str());
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);

    const bool has_file_body = !r.upload_file.empty();
    const bool has_body = has_file_body || !r.body.empty() || r.send_body;
    std::uint64_t body_size = 0;
    if (has_file_body) {
      const auto total = file_size_or_zero(r.upload_file);
      if (r.upload_offset > total) {
        error_text = "upload offset beyond the end of " + r.upload_file.string();
        return CURLE_READ_ERROR;
      }
      body_size = std::min(r.upload_length, total - r.upload_offset);
      t.in.reset(std::fopen(r.upload_file.c_str(), "rb"));
      if (!t.in || fseeko(t.in.get(), static_cast<off_t>(r.upload_offset), SEEK_SET) != 0) {
        error_text = "cannot read " + r.upload_file.string() + ": " +
                     std::error_code(errno, std::generic_category()).message();
        return CURLE_READ_ERROR;
      }
      t.in_remaining = t.in_total = body_size;
    } else {
      body_size = r.body.size();
    }

    const std::string method = r.method.empty() ? "GET" : r.method;
    if (method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (method == "PUT" || (method == "POST" && has_body)) {
      if (method == "PUT") {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
      } else {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_size));
      }
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
      curl_easy_setopt(curl, CURLOPT_READDATA, &t);
      curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_cb);
      curl_easy_setopt(curl, CURLOPT_SEEKDATA, &t);
    } else if (method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    }

    for (const auto& [k, v] : r.headers) add_header(k + ": " + v);
    if (!r.if_none_match.empty()) add_header("If-None-Match: " + r.if_none_match);
    if (!r.if_modified_since.empty()) add_header("If-Modified-Since: " + r.if_modified_since);

    if (!r.download_file.empty() && resume) {
      t.resume_offset = file_size_or_zero(r.download_file);
      if (t.resume_offset > 0) {
        t.resumed_from = true;
        add_header("Range: bytes=" + std::to_string(t.resume_offset) + "-");
      }
    }

    std::string sigv4;
    if (r.aws) {
      std::string payload = r.payload_sha256;
      if (payload.empty()) {
        if (has_file_body) {
          auto h = sha256_file_hex(r.upload_file, r.upload_offset, body_size);
          if (!h) {
            error_text = h.error().message;
            return CURLE_READ_ERROR;
          }
          payload = *h;
        } else {
          payload = sha256_hex(r.body);
        }
      }
      add_header("x-amz-content-sha256: " + payload);
      if (!r.aws->session_token.empty())
        add_header("x-amz-security-token: " + r.aws->session_token);
      sigv4 = "aws:amz:" + r.aws->region + ":" + r.aws->service;
      curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
      curl_easy_setopt(curl, CURLOPT_USERNAME, r.aws->access_key_id.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, r.aws->secret_access_key.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());

    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = status;
    t.out.reset();  // flush and close before anyone looks at the file
    if (t.over_limit_hit) {
      over_limit = true;
      const bool download = !r.download_file.empty();
      error_text = "the server sent more than " + human_bytes(t.over_limit) +
                   (download ? ", the size the manifest or listing declares for it"
                             : ", the cap on a response read into memory") +
                   "; refused" + (download ? ", nothing was kept" : "");
      if (download) {
        std::error_code ec;
        std::filesystem::remove(r.download_file, ec);
      }
      return CURLE_WRITE_ERROR;
    }
    if (t.out_failed) {
      error_text = "cannot write " + r.download_file.string() + ": " + t.out_error;
      return CURLE_WRITE_ERROR;
    }
    if (rc == CURLE_OK && !r.download_file.empty()) {
      if (response.ok() && response.downloaded == 0 && !(status == 206 && t.resumed_from)) {
        // A 2xx with an empty body still leaves a (now empty) file.
        std::ofstream(r.download_file, std::ios::binary | std::ios::trunc);
      }
      if (status == 416 && t.resumed_from &&
          content_range_total(response.header("content-range")) == t.resume_offset) {
        response.status = 206;  // the partial file was already complete
        response.body.clear();
      }
    }
    if (rc != CURLE_OK) error_text = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    return rc;
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

Expected<Response> HttpClient::get(const std::string& url, const Headers& headers) {
  Request r;
  r.url = url;
  r.headers = headers;
  auto res = perform(r);
  if (!res) return res.error();
  if (!res->ok()) return status_failure(r, *res, impl_->options.secrets);
  return res;
}

Expected<Response> HttpClient::get_to_file(const std::string& url,
                                           const std::filesystem::path& file, bool resume,
                                           const Headers& headers) {
  Request r;
  r.url = url;
  r.headers = headers;
  r.download_file = file;
  r.resume = resume;
  auto res = perform(r);
  if (!res) return res.error();
  if (!res->ok() && res->status != 304) return status_failure(r, *res, impl_->options.secrets);
  return res;
}

Expected<Response> HttpClient::get_to_file_at_most(const std::string& url,
                                                   const std::filesystem::path& file,
                                                   std::uint64_t max_bytes, bool resume,
                                                   const Headers& headers) {
  Request r;
  r.url = url;
  r.headers = headers;
  r.download_file = file;
  r.resume = resume;
  BodyLimits limits;
  limits.max_download = max_bytes;
  auto res = perform(r, limits);
  if (!res) return res.error();
  if (!res->ok() && res->status != 304) return status_failure(r, *res, impl_->options.secrets);
  return res;
}

Expected<Response> HttpClient::head(const std::string& url, const Headers& headers) {
  Request r;
  r.method = "HEAD";
  r.url = url;
  r.headers = headers;
  auto res = perform(r);
  if (!res) return res.error();
  if (!res->ok()) return status_failure(r, *res, impl_->options.secrets);
  return res;
}

Expected<Response> HttpClient::put_file(const std::string& url, const std::filesystem::path& file,
                                        const Headers& headers) {
  Request r;
  r.method = "PUT";
  r.url = url;
  r.headers = headers;
  r.upload_file = file;
  auto res = perform(r);
  if (!res) return res.error();
  if (!res->ok()) return status_failure(r, *res, impl_->options.secrets);
  return res;
}

Failure status_failure(const Request& request, const Response& response,
                       const std::vector<std::string>& secrets) {
  auto all = secrets;
  if (request.aws) {
    all.push_back(request.aws->secret_access_key);
    all.push_back(request.aws->session_token);
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

std::string redact_url(const std::string& url) {
  std::string out = url;
  auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    auto host_start = scheme + 3;
    auto path_start = out.find_first_of("/?#", host_start);
    auto at = out.rfind('@', path_start == std::string::npos ? out.size() : path_start);
    if (at != std::string::npos && at >= host_start)
      out.replace(host_start, at - host_start, "***");
  }
  auto q = out.find('?');
  if (q == std::string::npos) return out;
  static const std::array<const char*, 10> kSecretParams = {"x-amz-signature",
                                                            "x-amz-credential",
                                                            "x-amz-security-token",
                                                            "signature",
                                                            "token",
                                                            "access_token",
                                                            "sig",
                                                            "password",
                                                            "awsaccesskeyid",
                                                            "secret"};
  std::string result = out.substr(0, q + 1);
  std::string query = out.substr(q + 1);
  std::string fragment;
  if (auto h = query.find('#'); h != std::string::npos) {
    fragment = query.substr(h);
    query.resize(h);
  }
  size_t pos = 0;
  bool first = true;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    std::string part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = part.find('=');
    std::string name = lower(part.substr(0, eq));
    if (eq != std::string::npos &&
        std::find(kSecretParams.begin(), kSecretParams.end(), name) != kSecretParams.end()) {
      part = part.substr(0, eq + 1) + "***";
    }
    if (!first) result += '&';
    result += part;
    first = false;
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return result + fragment;
}

std::string redact_text(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (auto p = text.find(s); p != std::string::npos; p = text.find(s, p + 3)) {
      text.replace(p, s.size(), "***");
    }
  }
  // Every URL-looking token goes through redact_url.
  std::string out;
  size_t pos = 0;
  while (true) {
    auto sep = text.find("://", pos);
    if (sep == std::string::npos) break;
    size_t start = sep;
    while (start > pos &&
           (std::isalnum(static_cast<unsigned char>(text[start - 1])) || text[start - 1] == '+' ||
            text[start - 1] == '-' || text[start - 1] == '.'))
      --start;
    size_t end = text.find_first_of(" \t\r\n\"'<>", sep);
    if (end == std::string::npos) end = text.size();
    out += text.substr(pos, start - pos);
    out += redact_url(text.substr(start, end - start));
    pos = end;
  }
  out += text.substr(pos);
  return out;
}

std::string uri_encode(const std::string& text, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace sf::http
