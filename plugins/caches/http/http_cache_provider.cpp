// The "http" cache provider: read-only access to a cache published on a static server or CDN
// (GET, HEAD; listing through the index.json files `cache index` writes). Writes answer
// Failure::read_only. settings: connect_timeout_ms, low_speed_time_s, retries. An index.json is
// read whole (up to the client's 64 MiB cap, an error past it), never cut short.
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/http_client.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace fs = std::filesystem;

namespace {

using sf::Expected;
using sf::Failure;
namespace http = sf::http;

class HttpCacheProvider final : public sf::CacheProvider {
 public:
  explicit HttpCacheProvider(const sf::CacheLayerSpec& spec) : name_(spec.name), base_(spec.url) {
    if (!base_.empty() && base_.back() != '/') base_ += '/';
    const auto& s = spec.settings;
    http::ClientOptions o;
    o.timeouts.connect = std::chrono::milliseconds(s.value("connect_timeout_ms", 10000));
    o.timeouts.low_speed_time = std::chrono::seconds(s.value("low_speed_time_s", 30));
    o.retry.max_attempts = s.value("retries", 4);
    client_ = std::make_unique<http::HttpClient>(o);
  }

  std::string name() const override { return name_; }
  bool writable() const override { return false; }
  std::string location() const override { return http::redact_url(base_); }

  Expected<bool> has(const std::string& key) override {
    http::Request req;
    req.method = "HEAD";
    req.url = url(key);
    auto r = client_->perform(req);
    if (!r) return r.error();
    if (r->status == 404 || r->status == 410) return false;
    if (!r->ok()) return http::status_failure(req, *r);
    return true;
  }

  Expected<void> get(const std::string& key, const fs::path& destination) override {
    return get_at_most(key, destination, std::numeric_limits<std::uint64_t>::max());
  }

  Expected<void> get_at_most(const std::string& key, const fs::path& destination,
                             std::uint64_t max_bytes) override {
    http::Request req;
    req.url = url(key);
    http::BodyLimits limits;
    limits.max_download = max_bytes;
    auto r = http::download_to_file(*client_, req, destination, limits);
    if (!r) return r.error();
    if (!r->ok()) return http::status_failure(req, *r);
    return {};
  }

  Expected<void> put(const std::string&, const fs::path&) override { return read_only(); }
  Expected<void> remove(const std::string&) override { return read_only(); }

  Expected<std::vector<sf::CacheObject>> list(const std::string& prefix) override {
    auto top = client_->get(url("index.json"));
    if (!top) return top.error();
    std::vector<sf::CacheObject> out;
    try {
      const auto top_index = nlohmann::json::parse(top->body);
      for (const auto& d : top_index.at("directories")) {
        const std::string dir = d.get<std::string>();
        auto idx = client_->get(url(dir + "/index.json"));
        if (!idx) return idx.error();
        const auto index = nlohmann::json::parse(idx->body);
        for (const auto& e : index.at("entries")) {
          const std::string base = e.at("key").get<std::string>();
          const auto mtime = e.value("mtime", std::int64_t{0});
          const bool is_signed = e.value("signed", false);
          for (const std::string& k : {base + ".tar.zst", base + ".manifest.json",
                                       is_signed ? base + ".manifest.json.asc" : std::string()}) {
            if (k.empty() || k.rfind(prefix, 0) != 0) continue;
            out.push_back({k,
                           k.size() > 8 && k.compare(k.size() - 8, 8, ".tar.zst") == 0
                               ? e.value("size", std::uint64_t{0})
                               : 0,
                           mtime});
          }
        }
      }
    } catch (const nlohmann::json::exception& e) {
      return Failure::error("cache layer '" + name_ + "' (" + location() +
                            "): malformed index.json: " + e.what() +
                            "; regenerate it with `slurm-factory cache index` and republish");
    }
    return out;
  }

 private:
  std::string url(const std::string& key) const { return base_ + http::uri_encode(key, true); }
  Failure read_only() const {
    return Failure::read_only("cache layer '" + name_ + "' (" + location() +
                              ") is read-only (http); publish to it with a local or s3 layer");
  }

  std::string name_;
  std::string base_;
  std::unique_ptr<http::HttpClient> client_;
};

void register_http(sf::Registry& registry) {
  registry.add_cache_provider_type(
      "http",
      [](const sf::CacheLayerSpec& spec) { return std::make_unique<HttpCacheProvider>(spec); },
      {{"connect_timeout_ms", "low_speed_time_s", "retries"}});
}

}  // namespace

SLURM_FACTORY_PLUGIN("cache-http", "1.0.0", "Read-only binary cache on an HTTP server or CDN",
                     register_http)
