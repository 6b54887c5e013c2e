// The "s3" cache provider. url: s3://BUCKET[/PREFIX]. settings: endpoint (default
// https://s3.REGION.amazonaws.com), region (default us-east-1), path_style (default true when an
// endpoint is given), profile / credentials_file (shared credentials file), multipart_threshold
// and part_size (bytes), part_concurrency (parts uploaded at once, default 4),
// list_page_size, max_list_pages, connect_timeout_ms, low_speed_time_s, retries. Credentials:
// when access_key_id_env / secret_access_key_env (and session_token_env) name environment
// variables, from those variables only (a named variable that is unset or empty is a
// configuration error naming the layer and the variable: an empty key is never sent); else from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the shared credentials file
// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials) with the profile (settings.profile,
// AWS_PROFILE, "default"). Requests are SigV4-signed by libcurl through the HTTP client's
// request-signing hook (aws_sigv4.hpp); secrets never reach a log line.
// Unknown settings are refused by the core (the keys are declared with add_cache_provider_type).
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include "aws_sigv4.hpp"
#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/environment.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/http_client.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace fs = std::filesystem;

namespace {

using sf::env;
using sf::Expected;
using sf::Failure;
namespace http = sf::http;

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// The value of the variable a `*_env` setting names; unset or empty is a configuration error.
std::string named_variable(const sf::CacheLayerSpec& spec, const std::string& setting,
                           const std::string& what) {
  const std::string var = spec.settings.value(setting, std::string());
  const std::string value = env(var.c_str());
  if (var.empty() || value.empty()) {
    throw sf::ConfigurationError(
        "cache layer '" + spec.name + "': settings." + setting +
            " names the environment variable " + (var.empty() ? std::string("''") : var) +
            ", which is " +
            (var.empty() ? "not a name" : (sf::env_if_set(var.c_str()) ? "empty" : "not set")) +
            "; no " + what + " would be sent",
        {{"layer", spec.name}, {"setting", setting}, {"variable", var}},
        "export " + (var.empty() ? std::string("THE_VARIABLE") : var) + "=<the " + what +
            "> before running slurm-factory, or name another variable in settings." + setting);
  }
  return value;
}

// Credentials named by the layer's *_env settings, the AWS_* variables, or the shared
// credentials file ([profile] key = value).
sf::s3::AwsSigV4 credentials(const sf::CacheLayerSpec& spec, const std::string& region) {
  const auto& settings = spec.settings;
  sf::s3::AwsSigV4 c;
  c.region = region;
  const bool named = settings.contains("access_key_id_env") ||
                     settings.contains("secret_access_key_env") ||
                     settings.contains("session_token_env");
  if (named) {
    const std::string id_var = settings.value("access_key_id_env", std::string());
    const std::string secret_var = settings.value("secret_access_key_env", std::string());
    if (id_var.empty() || secret_var.empty()) {
      const std::string missing = id_var.empty() ? "access_key_id_env" : "secret_access_key_env";
      throw sf::ConfigurationError(
          "cache layer '" + spec.name + "': settings." + missing +
              " is missing; access_key_id_env and secret_access_key_env go together",
          {{"layer", spec.name}, {"setting", missing}},
          "name the variable of the " +
              std::string(id_var.empty() ? "access key id" : "secret access key") + " too, e.g. " +
              missing + ": " + (id_var.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"));
    }
    c.access_key_id = named_variable(spec, "access_key_id_env", "access key id");
    c.secret_access_key = named_variable(spec, "secret_access_key_env", "secret access key");
    if (settings.contains("session_token_env")) {
      c.session_token = named_variable(spec, "session_token_env", "session token");
    } else if (id_var == "AWS_ACCESS_KEY_ID" && secret_var == "AWS_SECRET_ACCESS_KEY") {
      c.session_token = env("AWS_SESSION_TOKEN");
    }
    return c;
  }
  c.access_key_id = env("AWS_ACCESS_KEY_ID");
  c.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  c.session_token = env("AWS_SESSION_TOKEN");
  if (!c.access_key_id.empty() && !c.secret_access_key.empty()) return c;
  std::string file = settings.value("credentials_file", env("AWS_SHARED_CREDENTIALS_FILE"));
  if (file.empty() && !env("HOME").empty()) file = env("HOME") + "/.aws/credentials";
  std::string profile = settings.value("profile", env("AWS_PROFILE"));
  if (profile.empty()) profile = "default";
  std::ifstream in(file);
  std::string line, section;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      continue;
    }
    if (section != profile) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto k = trim(line.substr(0, eq));
    auto v = trim(line.substr(eq + 1));
    if (k == "aws_access_key_id") c.access_key_id = v;
    if (k == "aws_secret_access_key") c.secret_access_key = v;
    if (k == "aws_session_token") c.session_token = v;
  }
  return c;
}

std::string xml_unescape(std::string s) {
  const std::pair<const char*, const char*> map[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (auto [from, to] : map) {
    for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + 1))
      s.replace(p, std::strlen(from), to);
  }
  return s;
}

// Every text of <tag>..</tag> inside `xml` (flat, no attributes on the tag).
std::vector<std::string> xml_all(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  for (auto p = xml.find(open); p != std::string::npos; p = xml.find(open, p)) {
    auto e = xml.find(close, p);
    if (e == std::string::npos) break;
    out.push_back(xml.substr(p + open.size(), e - p - open.size()));
    p = e + close.size();
  }
  return out;
}
std::string xml_one(const std::string& xml, const std::string& tag) {
  auto all = xml_all(xml, tag);
  return all.empty() ? "" : xml_unescape(all.front());
}

// "2024-01-02T03:04:05.000Z" -> epoch seconds.
std::int64_t parse_iso8601(const std::string& s) {
  std::tm tm{};
  if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

class S3CacheProvider final : public sf::CacheProvider {
 public:
  explicit S3CacheProvider(const sf::CacheLayerSpec& spec)
      : name_(spec.name), writable_(spec.writable) {
    const auto& s = spec.settings;
    std::string rest = spec.url.rfind("s3://", 0) == 0 ? spec.url.substr(5) : spec.url;
    auto slash = rest.find('/');
    bucket_ = rest.substr(0, slash);
    prefix_ = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (!prefix_.empty() && prefix_.back() != '/') prefix_ += '/';
    region_ = s.value("region", sf::env_or("AWS_REGION", "us-east-1"));
    endpoint_ = s.value("endpoint", std::string());
    path_style_ = s.value("path_style", !endpoint_.empty());
    if (endpoint_.empty()) endpoint_ = "https://s3." + region_ + ".amazonaws.com";
    while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
    multipart_threshold_ = s.value("multipart_threshold", std::uint64_t{64} << 20);
    part_size_ = std::max<std::uint64_t>(s.value("part_size", std::uint64_t{16} << 20), 5U << 20);
    part_concurrency_ = s.value("part_concurrency", 4);
    page_size_ = s.value("list_page_size", 0);
    max_list_pages_ = s.value("max_list_pages", 100000);
    spec_names_variables_ = s.contains("access_key_id_env") || s.contains("secret_access_key_env");
    aws_ = credentials(spec, region_);
    signer_ = sf::s3::sigv4_signer(aws_);
    http::ClientOptions o;
    o.timeouts.connect = std::chrono::milliseconds(s.value("connect_timeout_ms", 10000));
    o.timeouts.low_speed_time = std::chrono::seconds(s.value("low_speed_time_s", 30));
    o.retry.max_attempts = s.value("retries", 4);
    o.secrets = {aws_.secret_access_key, aws_.session_token};
    client_ = std::make_unique<http::HttpClient>(o);
  }

  std::string name() const override { return name_; }
  bool writable() const override { return writable_; }
  std::string location() const override {
    return "s3://" + bucket_ + "/" + prefix_ + " at " + endpoint_;
  }

  Expected<bool> has(const std::string& key) override {
    auto req = request("HEAD", key);
    auto r = client_->perform(req);
    if (!r) return r.error();
    if (r->status == 404) return false;
    if (!r->ok()) return fail(req, *r);
    return true;
  }

  Expected<void> get(const std::string& key, const fs::path& destination) override {
    return get_at_most(key, destination, std::numeric_limits<std::uint64_t>::max());
  }

  Expected<void> get_at_most(const std::string& key, const fs::path& destination,
                             std::uint64_t max_bytes) override {
    auto req = request("GET", key);
    http::BodyLimits limits;
    limits.max_download = max_bytes;
    auto r = http::download_to_file(*client_, req, destination, limits);
    if (!r) return r.error();
    if (!r->ok()) return fail(req, *r);
    return {};
  }

  Expected<void> put(const std::string& key, const fs::path& source) override {
    if (!writable_) return Failure::read_only("cache layer '" + name_ + "' is read-only");
    std::error_code ec;
    const auto size = fs::file_size(source, ec);
    if (ec) return Failure::error("cannot read " + source.string() + ": " + ec.message());
    if (size >= multipart_threshold_) return put_multipart(key, source, size);
    auto req = request("PUT", key);
    req.upload_file = source;
    auto r = client_->perform(req);
    if (!r) return r.error();
    if (!r->ok()) return fail(req, *r);
    return {};
  }

  Expected<std::vector<sf::CacheObject>> list(const std::string& prefix) override {
    std::vector<sf::CacheObject> out;
    std::string token;
    std::set<std::string> tokens_seen;
    int pages = 0;
    do {
      if (++pages > max_list_pages_) {
        return Failure::error("s3 " + location() + ": listing '" + prefix + "' did not end after " +
                              std::to_string(max_list_pages_) +
                              " pages; stopped (raise settings.max_list_pages if the bucket "
                              "really holds that many objects)");
      }
      // Query parameters in canonical (sorted, encoded) order: curl signs the query as given.
      std::string q;
      if (!token.empty()) q += "continuation-token=" + http::uri_encode(token) + "&";
      q += "list-type=2&";
      if (page_size_ > 0) q += "max-keys=" + std::to_string(page_size_) + "&";
      q += "prefix=" + http::uri_encode(prefix_ + prefix);
      http::Request req;
      req.method = "GET";
      req.url = bucket_url() + "?" + q;
      req.signer = signer_;
      auto r = client_->perform(req);
      if (!r) return r.error();
      if (!r->ok()) return fail(req, *r);
      for (const auto& c : xml_all(r->body, "Contents")) {
        std::string key = xml_one(c, "Key");
        if (key.rfind(prefix_, 0) != 0) continue;
        out.push_back(
            {key.substr(prefix_.size()),
             static_cast<std::uint64_t>(std::strtoull(xml_one(c, "Size").c_str(), nullptr, 10)),
             parse_iso8601(xml_one(c, "LastModified"))});
      }
      if (xml_one(r->body, "IsTruncated") != "true") break;
      token = xml_one(r->body, "NextContinuationToken");
      if (token.empty()) {
        return Failure::error("s3 " + location() + ": listing '" + prefix + "' page " +
                              std::to_string(pages) +
                              " says it is truncated but gives no NextContinuationToken; the "
                              "server is not S3-compatible here");
      }
      if (!tokens_seen.insert(token).second) {
        return Failure::error("s3 " + location() + ": listing '" + prefix + "' page " +
                              std::to_string(pages) +
                              " repeats an earlier continuation token; stopped (the server would "
                              "loop forever)");
      }
    } while (true);
    return out;
  }

  Expected<void> remove(const std::string& key) override {
    if (!writable_) return Failure::read_only("cache layer '" + name_ + "' is read-only");
    auto req = request("DELETE", key);
    auto r = client_->perform(req);
    if (!r) return r.error();
    if (!r->ok()) return fail(req, *r);
    return {};
  }

 private:
  std::string bucket_url() const {
    if (path_style_) return endpoint_ + "/" + bucket_;
    auto scheme = endpoint_.find("://");
    return endpoint_.substr(0, scheme + 3) + bucket_ + "." + endpoint_.substr(scheme + 3);
  }
  std::string object_url(const std::string& key) const {
    return bucket_url() + "/" + http::uri_encode(prefix_ + key, true);
  }
  http::Request request(const std::string& method, const std::string& key) const {
    http::Request r;
    r.method = method;
    r.url = object_url(key);
    r.signer = signer_;
    return r;
  }
  Failure fail(const http::Request& req, const http::Response& r) const {
    auto f = http::status_failure(req, r, {aws_.secret_access_key, aws_.session_token});
    if (f.kind == Failure::Kind::kUnauthorized) {
      f.message += spec_names_variables_
                       ? "; check the variables named by settings.access_key_id_env / "
                         "secret_access_key_env"
                       : "; check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the credentials "
                         "profile";
    }
    return f;
  }

  Expected<void> put_multipart(const std::string& key, const fs::path& source, std::uint64_t size) {
    auto start = request("POST", key);
    start.url += "?uploads=";
    start.send_body = true;
    auto r = client_->perform(start);
    if (!r) return r.error();
    if (!r->ok()) return fail(start, *r);
    const std::string upload_id = xml_one(r->body, "UploadId");
    if (upload_id.empty())
      return Failure::error("s3 " + location() + ": no UploadId in the answer");
    const std::string id_q = "uploadId=" + http::uri_encode(upload_id);
    // Parts go up concurrently (part_concurrency, default 4), each worker with its own connection,
    // as S3 clients do: one part at a time leaves the link idle while each part is signed and
    // acknowledged.
    const std::uint64_t count = (size + part_size_ - 1) / part_size_;
    std::vector<std::string> etags(count);
    std::atomic<std::uint64_t> next{0};
    std::mutex failure_mutex;
    std::optional<Failure> failure;
    auto worker = [&] {
      http::HttpClient client(client_->options());
      for (std::uint64_t i = next++; i < count; i = next++) {
        {
          std::lock_guard lock(failure_mutex);
          if (failure) return;
        }
        const std::uint64_t off = i * part_size_;
        auto req = request("PUT", key);
        req.url += "?partNumber=" + std::to_string(i + 1) + "&" + id_q;
        req.upload_file = source;
        req.upload_offset = off;
        req.upload_length = std::min(part_size_, size - off);
        auto pr = client.perform(req);
        if (!pr || !pr->ok()) {
          std::lock_guard lock(failure_mutex);
          if (!failure) failure = pr ? fail(req, *pr) : pr.error();
          return;
        }
        etags[i] = pr->header("etag");
      }
    };
    const auto workers = static_cast<std::uint64_t>(std::max(1, part_concurrency_));
    std::vector<std::thread> threads;
    for (std::uint64_t t = 0; t < std::min(workers, count); ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    if (failure) {
      abort_upload(key, id_q);
      return *failure;
    }
    std::string parts_xml;
    for (std::uint64_t i = 0; i < count; ++i) {
      parts_xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] +
                   "</ETag></Part>";
    }
    auto done = request("POST", key);
    done.url += "?" + id_q;
    done.body = "<CompleteMultipartUpload>" + parts_xml + "</CompleteMultipartUpload>";
    done.headers.emplace_back("Content-Type", "application/xml");
    auto dr = client_->perform(done);
    if (!dr || !dr->ok() || dr->body.find("<Error>") != std::string::npos) {
      auto f = !dr ? dr.error()
                   : (dr->ok() ? Failure::error("s3 " + location() + ": completing the upload of " +
                                                key + " failed: " + dr->body.substr(0, 300))
                               : fail(done, *dr));
      abort_upload(key, id_q);
      return f;
    }
    return {};
  }

  void abort_upload(const std::string& key, const std::string& id_q) {
    auto req = request("DELETE", key);
    req.url += "?" + id_q;
    (void)client_->perform(req);
  }

  std::string name_;
  bool writable_;
  std::string bucket_, prefix_, region_, endpoint_;
  bool path_style_ = true;
  bool spec_names_variables_ = false;
  int page_size_ = 0;
  int max_list_pages_ = 100000;
  std::uint64_t multipart_threshold_, part_size_;
  int part_concurrency_ = 4;
  sf::s3::AwsSigV4 aws_;
  std::shared_ptr<const http::RequestSigner> signer_;
  std::unique_ptr<http::HttpClient> client_;
};

void register_s3(sf::Registry& registry) {
  registry.add_cache_provider_type(
      "s3", [](const sf::CacheLayerSpec& spec) { return std::make_unique<S3CacheProvider>(spec); },
      {{"endpoint", "region", "path_style", "access_key_id_env", "secret_access_key_env",
        "session_token_env", "profile", "credentials_file", "multipart_threshold", "part_size",
        "part_concurrency", "list_page_size", "max_list_pages", "connect_timeout_ms",
        "low_speed_time_s", "retries"}});
}

}  // namespace

SLURM_FACTORY_PLUGIN("cache-s3", "1.0.0", "Binary cache in an S3 bucket (SigV4, multipart)",
                     register_s3)
