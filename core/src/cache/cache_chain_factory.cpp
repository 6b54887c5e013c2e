#include "cache/cache_chain_factory.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "app/app.hpp"
#include "config/config_materialize.hpp"
#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"

namespace fs = std::filesystem;

namespace sf {

const CacheLayerSpec* CacheChainSetup::spec(const std::string& name) const {
  for (const auto& l : layers)
    if (l.name == name) return &l;
  return nullptr;
}

namespace {

constexpr const char* kSharedMarker = "slurm-factory-shared";

fs::path automatic_home(const Config& config) { return config.cache_dir / "gnupg"; }

void make_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw ConfigurationError("cannot create the keyring " + dir.string() + ": " + ec.message(),
                             {{"keyring", dir.string()}}, "check that cache_dir is writable");
  }
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
}

}  // namespace

std::string trust_keyring(const Config& config) {
  if (!config.signing.keyring.empty()) return config.signing.keyring;
  const fs::path home = automatic_home(config);
  make_private_dir(home);
  return home.string();
}

GpgTrust config_trust(const Config& config) {
  return GpgTrust{trust_keyring(config), config.signing.trusted_fingerprints, false};
}

bool uses_automatic_key(const SigningSettings& sig, const std::string& key_override) {
  return key_override.empty() && sig.key_id.empty() && sig.private_key_file.empty() &&
         sig.private_key_env.empty() && sig.keyring.empty();
}

std::unique_ptr<GpgSigner> open_config_signer(const Config& config,
                                              const std::string& key_override) {
  const SigningSettings& sig = config.signing;
  std::error_code ec;
  if (fs::is_directory(config.cache_dir, ec)) remove_stale_temp_homes(config.cache_dir);
  const std::string keyring = trust_keyring(config);
  const std::string key_id = key_override.empty() ? sig.key_id : key_override;
  GpgSignerOptions so;
  so.passphrase_file = sig.passphrase_file;
  so.passphrase_env = sig.passphrase_env;
  so.temp_parent = config.cache_dir;
  if (!key_id.empty()) {
    so.gnupg_home = keyring;
    so.key_id = key_id;
    return std::make_unique<GpgSigner>(so);
  }
  if (!sig.private_key_file.empty() || !sig.private_key_env.empty()) {
    so.private_key_file = sig.private_key_file;
    so.private_key_env = sig.private_key_env;
    auto signer = std::make_unique<GpgSigner>(so);
    // The trust anchor verifies what this key signs: its public part goes into the keyring.
    GpgVerifier anchor(GpgTrust{keyring, {}, false});
    auto imported = anchor.import_keys(signer->export_public_key());
    if (!imported) {
      throw SigningError(
          "cannot add the signing key's public part to the keyring: " + imported.error().message,
          {{"keyring", keyring}}, "check that the keyring directory is writable");
    }
    record_trusted_keys(keyring, {signer->fingerprint()});
    return signer;
  }
  so.gnupg_home = keyring;
  if (!sig.keyring.empty()) {
    // A keyring without key_id: its only secret key signs; none or several is a config error,
    // never silently unsigned artifacts.
    try {
      return std::make_unique<GpgSigner>(so);
    } catch (const SigningError& e) {
      const std::string origin = config.origin_of("signing.keyring");
      std::string keys = e.context_value("keys");
      throw ConfigurationError(
          (origin.empty() ? std::string() : origin + ": ") +
              "signing.keyring is set without signing.key_id, and " + e.what(),
          {{"keyring", keyring}, {"key", "signing.key_id"}, {"keys", keys.empty() ? "-" : keys}},
          keys.empty() ? "put the site's secret signing key into " + keyring +
                             ", or set signing.key_id, signing.private_key_file or "
                             "signing.private_key_env, or remove signing.keyring to use the "
                             "automatic local key"
                       : "set signing.key_id to the fingerprint of the key that signs");
    }
  }
  // The automatic local key of this cache, made on first use.
  GpgVerifier own(GpgTrust{keyring, {}, false});
  auto secret = own.secret_keys();
  if (secret && secret->empty()) {
    const std::string fpr = GpgSigner::generate_key(keyring, "slurm-factory local cache key");
    sf::log().info(
        "made a local signing key {} in {} (to share entries between machines: `slurm-factory "
        "cache keys export` here, `cache keys import` there; docs/cache.md)",
        fpr, keyring);
  }
  return std::make_unique<GpgSigner>(so);
}

void check_shared_signing(const Config& config, const std::vector<CacheLayerSpec>& layers,
                          const GpgSigner& signer, const std::string& key_override) {
  if (!uses_automatic_key(config.signing, key_override)) return;
  if (!config.signing.trusted_fingerprints.empty()) return;
  const CacheLayerSpec* remote = nullptr;
  std::size_t index = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].writable && layers[i].type != "local") {
      remote = &layers[i];
      index = i;
      break;
    }
  }
  if (remote == nullptr) return;
  const std::string keyring = trust_keyring(config);
  std::error_code ec;
  if (fs::exists(fs::path(keyring) / kSharedMarker, ec)) return;  // exported: the site's signer
  for (const auto& f : read_trusted_keys(keyring)) {
    if (f != signer.fingerprint()) return;  // a peer's key imported: the site shares keys
  }
  const std::string key_path = "cache.layers[" + std::to_string(index) + "]";
  const std::string origin = config.origin_of(key_path);
  throw ConfigurationError(
      (origin.empty() ? std::string() : origin + ": ") + "cache layer '" + remote->name + "' (" +
          remote->type +
          ", writable) is shared between machines, but this machine signs with its own automatic "
          "key " +
          signer.fingerprint() +
          ", which no other machine trusts: machines with different keys would reject and "
          "overwrite each other's entries",
      {{"key", key_path}, {"keyring", keyring}},
      "share one key: run `slurm-factory cache keys export --armor --output site-key.asc` on the "
      "machine whose key signs and `slurm-factory cache keys import site-key.asc` on every other; "
      "or set signing.private_key_file (or private_key_env) to the same key on every machine; or "
      "make the layer writable: false");
}

void mark_keyring_shared(const std::string& keyring) {
  std::ofstream(fs::path(keyring) / kSharedMarker)
      << "# `slurm-factory cache keys export` gave this keyring's key to other machines\n";
}

CacheChainSetup make_cache_chain(App& app, const CacheChainRequest& request) {
  const Config& config = app.config();
  CacheChainSetup setup;
  setup.layers = config.cache_layers;
  if (request.local_cache) apply_local_cache_override(setup.layers, request.local_cache->string());
  std::vector<std::unique_ptr<CacheProvider>> providers;
  for (const auto& l : setup.layers) providers.push_back(app.cache_provider(l));

  const SigningSettings& sig = config.signing;
  if (request.want_signer) {
    setup.signer = open_config_signer(config, request.signing_key);
    check_shared_signing(config, setup.layers, *setup.signer, request.signing_key);
  }
  setup.verifier = std::make_unique<GpgVerifier>(config_trust(config));

  CacheChainOptions co;
  co.no_cache = request.no_cache;
  co.require_signed = sig.require_signed;
  co.trust.verifier = setup.verifier.get();
  co.trust.allow_unsigned = sig.allow_unsigned;
  co.trust.deep = request.deep;
  setup.chain = std::make_unique<CacheChain>(std::move(providers), co);
  return setup;
}

}  // namespace sf
