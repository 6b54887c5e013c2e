// Helpers for cache tests: load the real provider plugins from the build tree, make a signed entry.
#pragma once

#include <memory>
#include <string>

#include "cache/cache_entry.hpp"
#include "gpg_home.hpp"
#include "plugin_host/plugin_host.hpp"
#include "signing/gpg_signer.hpp"
#include "temp_dir.hpp"

namespace sf::test {

inline PluginHost& cache_plugins() {
  static PluginHost host;
  return host;
}

inline std::unique_ptr<CacheProvider> make_layer(
    const std::string& type, const std::string& name, const std::string& url, bool writable = true,
    nlohmann::json settings = nlohmann::json::object()) {
  static bool loaded = [] {
    for (const char* p : {"cache-local", "cache-s3", "cache-http"}) {
      try {
        cache_plugins().load_file(std::string(SF_TEST_PLUGIN_DIR) + "/libsf-" + p + ".so");
      } catch (const std::exception&) {
        // built on demand: a test that needs a missing plugin fails in make_cache_provider
      }
    }
    return true;
  }();
  (void)loaded;
  CacheLayerSpec spec{name, type, url, writable, std::move(settings)};
  return cache_plugins().make_cache_provider(spec);
}

// A staged tree with a few files, packed as a signed entry under `dir`.
inline CacheEntryFiles make_entry(const std::filesystem::path& dir, const CacheEntryKey& key,
                                  const GpgSigner* signer, const std::string& payload = "v1") {
  auto tree = dir / ("tree-" + key.name + key.version + key.hash.substr(0, 6));
  write_file(tree / "bin/hello", "#!/bin/sh\necho " + payload + "\n");
  write_file(tree / "lib/libhello.so.1", std::string(4096, 'h') + payload);
  CacheManifest m;
  m.name = key.name;
  m.version = key.version;
  m.hash = key.hash;
  m.toolchain = key.toolchain;
  m.arch = key.arch;
  auto files = pack_cache_entry(tree, m, dir / "out", signer);
  if (!files) throw std::runtime_error(files.error().message);
  return *files;
}

inline CacheEntryKey sample_key(const std::string& name = "hello", const std::string& h = "a") {
  std::string hash(64, h[0]);
  return {"debian-bookworm", "x86_64", name, "1.0", hash};
}

}  // namespace sf::test
