#include "net/curl_transfer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <system_error>

#include "net/ascii.hpp"
#include "slurm_factory/digest.hpp"

namespace sf::http {
namespace {

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
    t->response->headers.emplace_back(ascii_lower(trim(line.substr(0, colon))),
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

CURLcode perform_attempt(CURL* curl, const ClientOptions& options, const Request& r,
                         const BodyLimits& limits, Response& response, bool resume,
                         std::string& error_text, bool& over_limit) {
  over_limit = false;
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

  RequestSignature signature;  // outlives the transfer: libcurl keeps pointers into it
  if (r.signer) {
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
    auto signed_by = r.signer->sign(r, payload);
    if (!signed_by) {
      error_text = signed_by.error().message;
      return CURLE_READ_ERROR;
    }
    signature = std::move(*signed_by);
    for (const auto& [k, v] : signature.headers) add_header(k + ": " + v);
    if (!signature.curl_v4_scheme.empty()) {
      curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, signature.curl_v4_scheme.c_str());
      curl_easy_setopt(curl, CURLOPT_USERNAME, signature.key_id.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, signature.secret.c_str());
    }
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

bool retryable_code(CURLcode code) {
  switch (code) {
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

}  // namespace sf::http
