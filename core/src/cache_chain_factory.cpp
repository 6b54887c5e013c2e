#include "slurm_factory/core/cache_chain_factory.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "slurm_factory/core/app.hpp"
#include "slurm_factory/core/config_materialize.hpp"
#include "slurm_factory/core/plugin_host.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"

namespace sf {

const CacheLayerSpec* CacheChainSetup::spec(const std::string& name) const {
  for (const auto& l : layers)
    if (l.name == name) return &l;
  return nullptr;
}

std::unique_ptr<CacheProvider> make_cache_layer(App& app, const CacheLayerSpec& spec) {
  PluginHost& host = app.plugins();
  const auto types = host.cache_provider_types();
  if (std::find(types.begin(), types.end(), spec.type) == types.end()) {
    host.load("cache-" + spec.type, default_plugin_search_paths(app.config().plugin_search_paths));
  }
  // Unknown settings keys are refused at file:line like every other config key (the type declares
  // its keys; one from a plugin built for ABI 1.1 declares none and is not checked).
  if (const CacheProviderInfo* info = host.cache_provider_info(spec.type))
    config::check_layer_settings(app.config(), spec, info->settings);
  try {
    return host.make_cache_provider(spec);
  } catch (ConfigurationError& e) {
    // A provider refusing one of its settings names it; the core knows where it was written.
    if (e.context_value("file").empty()) {
      const std::string origin =
          config::layer_setting_origin(app.config(), spec.name, e.context_value("setting"));
      if (!origin.empty()) e.with("file", origin);
    }
    throw;
  }
}

CacheChainSetup make_cache_chain(App& app, const CacheChainRequest& request) {
  const Config& config = app.config();
  CacheChainSetup setup;
  setup.layers = config.cache_layers;
  if (request.local_cache) apply_local_cache_override(setup.layers, request.local_cache->string());
  std::vector<std::unique_ptr<CacheProvider>> providers;
  for (const auto& l : setup.layers) providers.push_back(make_cache_layer(app, l));

  SigningSettings sig = config.signing;
  const std::string key_id = request.signing_key.empty() ? sig.key_id : request.signing_key;
  const bool configured =
      !key_id.empty() || !sig.private_key_file.empty() || !sig.private_key_env.empty();
  if (!configured && sig.keyring.empty() && sig.trusted_fingerprints.empty()) {
    // No signing configured: a local key of this cache (<cache_dir>/gnupg), made on first use,
    // signs and is trusted, so a rebuild on this machine reuses its own entries. Sharing entries
    // between machines needs a configured key (docs/cache.md).
    const std::filesystem::path home = config.cache_dir / "gnupg";
    if (request.want_signer || std::filesystem::exists(home)) {
      sig.keyring = home.string();
      if (request.want_signer) {
        std::error_code ec;
        std::filesystem::create_directories(home, ec);
        std::filesystem::permissions(home, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::replace, ec);
        GpgSignerOptions probe;
        probe.gnupg_home = sig.keyring;
        try {
          setup.signer = std::make_unique<GpgSigner>(probe);
        } catch (const SigningError&) {
          const std::string fpr =
              GpgSigner::generate_key(sig.keyring, "slurm-factory local cache key");
          sf::log().info(
              "made a local signing key {} in {} (configure signing.key_id to share "
              "entries between machines)",
              fpr, sig.keyring);
          setup.signer = std::make_unique<GpgSigner>(probe);
        }
      }
    }
  }
  if (!setup.signer && request.want_signer && configured) {
    GpgSignerOptions so;
    so.gnupg_home = sig.keyring;
    so.key_id = key_id;
    so.private_key_file = sig.private_key_file;
    so.private_key_env = sig.private_key_env;
    so.passphrase_file = sig.passphrase_file;
    so.passphrase_env = sig.passphrase_env;
    setup.signer = std::make_unique<GpgSigner>(so);
  }
  std::vector<std::string> trusted = sig.trusted_fingerprints;
  // A key imported from a file lives in a temporary keyring: trust exactly that key.
  if (setup.signer && trusted.empty() && sig.keyring.empty())
    trusted.push_back(setup.signer->fingerprint());
  setup.verifier = std::make_unique<GpgVerifier>(GpgTrust{sig.keyring, trusted});

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
