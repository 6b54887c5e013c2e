// Binary-cache storage providers (local, s3, http), modelled on ccache's remote storage: a
// stateless factory (registered by a plugin under a type name) takes the layer's settings and
// returns a connected provider whose has/get/put/list/remove return Expected<..., Failure>. A
// provider knows bytes under keys, nothing about entries, signatures or trust: the core's cache
// chain does that.
//
// Keys are relative, '/'-separated: "<toolchain>/<arch>/<name>-<version>-<hash12>.tar.zst" and the
// ".manifest.json" / ".manifest.json.asc" beside it, plus "<toolchain>/<arch>/index.json".
// Contract:
//   - put is atomic: a reader sees the old object or the whole new one, never a part.
//   - has/get of a missing key: false / Failure::not_found. A read-only provider's put/remove:
//     Failure::read_only. Timeouts: Failure::timeout. Other trouble: Failure::error.
//   - Failure messages name the provider's location (redacted URL or directory) and never carry
//     credentials.
//   - A provider object is used from one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf {

// One cache layer as configured: `cache.layers[i]`.
struct CacheLayerSpec {
  std::string name;  // "local", "site-s3"
  std::string type;  // provider type: "local", "s3", "http"
  std::string url;   // "file:///root/.slurm-factory/cache", "s3://bucket/prefix", "https://..."
  bool writable = true;
  // Provider specific; the keys a type understands are those it declares with
  // Registry::add_cache_provider_type (the core refuses others at file:line). s3: endpoint,
  // region, path_style, access_key_id_env, secret_access_key_env, session_token_env, profile,
  // credentials_file, multipart_threshold, part_size, part_concurrency, list_page_size; all but
  // local: connect_timeout_ms, low_speed_time_s, retries.
  nlohmann::json settings = nlohmann::json::object();
};

struct CacheObject {
  std::string key;  // relative: "<toolchain>/<arch>/<name>-<version>-<hash12>.tar.zst"
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch
};

class CacheProvider {
 public:
  virtual ~CacheProvider();
  // The layer name from the config ("local", "site-s3").
  virtual std::string name() const = 0;
  virtual bool writable() const = 0;
  // Where it stores, for messages: a directory or a redacted URL.
  virtual std::string location() const { return name(); }
  virtual Expected<bool> has(const std::string& key) = 0;
  // Writes the object to `destination` (atomically: temp file + rename).
  virtual Expected<void> get(const std::string& key, const std::filesystem::path& destination) = 0;
  virtual Expected<void> put(const std::string& key, const std::filesystem::path& source) = 0;
  // Every object whose key starts with `prefix` ("" = all).
  virtual Expected<std::vector<CacheObject>> list(const std::string& prefix) = 0;
  virtual Expected<void> remove(const std::string& key) = 0;

  // ABI 1.2. get() of an object whose size is declared (by its manifest or the listing): a layer
  // that sends more than max_bytes gives a Failure (kError) saying so, and nothing is left at
  // `destination`. Providers that download override it to stop the transfer at the cap; this
  // default (defined in the core) calls get() and then checks the size. A provider built for ABI
  // 1.1 has no such slot: the host wraps it and applies this default.
  virtual Expected<void> get_at_most(const std::string& key,
                                     const std::filesystem::path& destination,
                                     std::uint64_t max_bytes);
};

}  // namespace sf
