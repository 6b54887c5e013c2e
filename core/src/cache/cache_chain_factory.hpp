// Makes the binary-cache chain from the App's config: the configured layers (cache.layers, with
// --local-cache applied), each through its provider plugin (loaded on demand: cache-<type>), the
// trust anchor and the signer. Shared by the cache commands, `verify` and the build pipeline.
//
// Trust is explicit and has ONE keyring: signing.keyring if set, else <cache_dir>/gnupg (the
// automatic local key's home, created on first use whether or not anything is in it yet); ~/.gnupg
// and $GNUPGHOME are never consulted. Signing, verifying, `verify`, `cache keys
// export/import/trust` all use it. Trusted signers: the keyring's own secret keys,
// signing.trusted_fingerprints, and the keys recorded by `cache keys import` / `trust`
// (gpg_verifier.hpp).
//
// The signer: signing.key_id (or --signing-key) from the keyring; else signing.private_key_file /
// private_key_env (imported into a temporary GNUPGHOME under cache_dir; its public part is imported
// into the keyring and recorded as trusted); else the keyring's only secret key when
// signing.keyring is set (none or several: a configuration error naming signing.key_id); else the
// automatic local key in <cache_dir>/gnupg, made on first use.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_chain.hpp"
#include "signing/gpg_signer.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/cache_provider.hpp"

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
struct Config;
struct SigningSettings;

struct CacheChainSetup {
  std::vector<CacheLayerSpec> layers;  // as used, in chain order
  std::unique_ptr<GpgSigner> signer;   // null when no key is configured (or not wanted)
  std::unique_ptr<GpgVerifier> verifier;
  std::unique_ptr<CacheChain> chain;

  // The spec of the layer called `name`, or nullptr.
  const CacheLayerSpec* spec(const std::string& name) const;
};

// The keyring of the trust anchor (see above); <cache_dir>/gnupg is created (0700) when it is used.
std::string trust_keyring(const Config& config);
// The trust anchor of the config: that keyring plus signing.trusted_fingerprints.
GpgTrust config_trust(const Config& config);
// True when the config names no signing key (so the automatic local key signs).
bool uses_automatic_key(const SigningSettings& signing, const std::string& key_override = {});
// The signer of the config (see above). Also removes temporary GNUPGHOMEs a killed run left under
// cache_dir. Throws ConfigurationError or SigningError.
std::unique_ptr<GpgSigner> open_config_signer(const Config& config,
                                              const std::string& key_override = {});
// Item: two machines with different automatic keys writing one remote layer would reject and
// overwrite each other's entries forever. Throws ConfigurationError when `layers` holds a writable
// layer that is not local, the automatic key signs, and this keyring is not shared: nothing
// recorded by `cache keys import` / `trust` (a peer's key) and no `cache keys export` of it.
void check_shared_signing(const Config& config, const std::vector<CacheLayerSpec>& layers,
                          const GpgSigner& signer, const std::string& key_override = {});
// Records that this keyring's key was exported to be trusted elsewhere (`cache keys export`).
void mark_keyring_shared(const std::string& keyring);

// Throws ConfigurationError, PluginError or SigningError.
CacheChainSetup make_cache_chain(App& app, const CacheChainRequest& request);

}  // namespace sf
