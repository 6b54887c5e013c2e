// Makes the binary-cache chain from the App's config: the configured layers (cache.layers, with
// --local-cache applied), each through its provider plugin (loaded on demand: cache-<type>), the
// trust anchor (signing.keyring + signing.trusted_fingerprints) and the signer (signing.key_id or a
// private key file / environment variable). Shared by the cache commands and the build pipeline.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/core/cache_chain.hpp"
#include "slurm_factory/core/gpg_signer.hpp"
#include "slurm_factory/core/gpg_verifier.hpp"

namespace sf {

class App;

struct CacheChainRequest {
  std::optional<std::filesystem::path> local_cache;  // --local-cache DIR
  bool no_cache = false;                             // --no-cache
  std::string signing_key;                           // --signing-key ID (overrides signing.key_id)
  bool want_signer = true;  // false: never open the signing key (read-only commands)
  bool deep = false;        // verify every file inside the tarball too
};

// Owns everything the chain points at; destroy it as a whole.
struct CacheChainSetup {
  std::vector<CacheLayerSpec> layers;  // as used, in chain order
  std::unique_ptr<GpgSigner> signer;   // null when no key is configured (or not wanted)
  std::unique_ptr<GpgVerifier> verifier;
  std::unique_ptr<CacheChain> chain;

  // The spec of the layer called `name`, or nullptr.
  const CacheLayerSpec* spec(const std::string& name) const;
};

// The provider for one layer through the App's plugin host (loads cache-<type> when needed).
// Throws PluginError / ConfigurationError.
std::unique_ptr<CacheProvider> make_cache_layer(App& app, const CacheLayerSpec& spec);

// Throws ConfigurationError, PluginError or SigningError.
CacheChainSetup make_cache_chain(App& app, const CacheChainRequest& request);

}  // namespace sf
