// Binary-cache storage providers (local, s3, http), modelled on ccache's remote storage: a stateless
// factory takes the layer's settings, a connected provider answers has/get/put/list/remove with
// Expected<..., Failure>. (Owned by the binary-cache work: extend it there.)
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slurm_factory/expected.hpp"

namespace sf {

// One cache layer as configured: `cache.layers[i]`.
struct CacheLayerSpec {
  std::string name;      // "local", "site-s3"
  std::string type;      // provider type: "local", "s3", "http"
  std::string url;       // "file:///root/.slurm-factory/cache", "s3://bucket/prefix", "https://..."
  bool writable = true;
  nlohmann::json settings = nlohmann::json::object();  // provider specific (region, endpoint, ...)
};

struct CacheObject {
  std::string key;  // relative: "<toolchain>/<arch>/<name>-<version>-<hash12>.tar.zst"
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch
};

class CacheProvider {
 public:
  virtual ~CacheProvider();
  virtual std::string name() const = 0;
  virtual bool writable() const = 0;
  virtual Expected<bool> has(const std::string& key) = 0;
  virtual Expected<void> get(const std::string& key, const std::filesystem::path& destination) = 0;
  virtual Expected<void> put(const std::string& key, const std::filesystem::path& source) = 0;
  virtual Expected<std::vector<CacheObject>> list(const std::string& prefix) = 0;
  virtual Expected<void> remove(const std::string& key) = 0;
};

}  // namespace sf
