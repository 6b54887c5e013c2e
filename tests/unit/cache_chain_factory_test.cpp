#include "cache/cache_chain_factory.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../support/cache_fixture.hpp"
#include "../support/gpg_home.hpp"
#include "../support/temp_dir.hpp"
#include "app/app.hpp"
#include "cache/cache_entry.hpp"
#include "config/config_loader.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

class CacheChainFactory : public ::testing::Test {
 protected:
  void TearDown() override {
    std::system(("gpgconf --homedir '" + (dir / "cache" / "gnupg").string() +
                 "' --kill all >/dev/null 2>&1")
                    .c_str());
  }
  // A config with this cache_dir, the local (and `more`) plugins and `extra` YAML.
  ConfigSources sources(const std::string& extra = "", const std::string& load = "cache-local") {
    std::ofstream(dir / "c.yaml") << "cache_dir: " << (dir / "cache").string() << "\n"
                                  << "plugins: {search_paths: [" << SF_TEST_PLUGIN_DIR
                                  << "], load: [" << load << "]}\n"
                                  << extra;
    ConfigSources s;
    s.read_system_file = false;
    s.read_user_file = false;
    s.environment = {{"HOME", dir.path().string()}};
    s.files = {dir / "c.yaml"};
    return s;
  }
  test::TempDir dir{"sf-ccf"};
};

// With no signing configured, the chain signs with a local key of the cache, made on first use
// and reused after, and trusts it: a rebuild on the same machine reuses its own entries.
TEST_F(CacheChainFactory, NoSigningConfiguredMakesAndReusesALocalCacheKey) {
  const auto src = sources();
  std::string first;
  {
    App app({}, src);
    auto setup = make_cache_chain(app, {});
    ASSERT_NE(setup.signer, nullptr);
    first = setup.signer->fingerprint();
    EXPECT_FALSE(first.empty());
    EXPECT_TRUE(fs::exists(dir / "cache" / "gnupg"));
    // What it signs, its own verifier accepts.
    auto ok = setup.verifier->verify_detached("m", setup.signer->sign_detached("m"));
    ASSERT_TRUE(ok) << ok.error().message;
  }
  {
    App app({}, src);
    auto setup = make_cache_chain(app, {});
    ASSERT_NE(setup.signer, nullptr);
    EXPECT_EQ(setup.signer->fingerprint(), first);  // the same key, not a new one
  }
  {
    App app({}, src);
    CacheChainRequest read_only;
    read_only.want_signer = false;
    auto setup = make_cache_chain(app, read_only);
    EXPECT_EQ(setup.signer, nullptr);  // read-only commands never open the key
    EXPECT_EQ(setup.verifier->trust().gnupg_home, (dir / "cache" / "gnupg").string());
  }
}

// Item 9: the trust anchor is <cache_dir>/gnupg even before it exists, never $GNUPGHOME: a key in
// GNUPGHOME (a stranger's, or anyone's) is not trusted.
TEST_F(CacheChainFactory, TrustAnchorIsTheCacheKeyringNeverGnupgHome) {
  test::GpgHome stranger;
  const auto fpr = GpgSigner::generate_key(stranger.path(), "Stranger <s@example.invalid>");
  const auto sig = GpgSigner({stranger.path(), fpr, {}, {}, {}, {}, {}}).sign_detached("m");
  const char* old = std::getenv("GNUPGHOME");
  const std::string saved = old ? old : "";
  ::setenv("GNUPGHOME", stranger.path().c_str(), 1);
  App app({}, sources());
  CacheChainRequest read_only;
  read_only.want_signer = false;
  ASSERT_FALSE(fs::exists(dir / "cache" / "gnupg"));
  auto setup = make_cache_chain(app, read_only);
  auto r = setup.verifier->verify_detached("m", sig);
  if (old) {
    ::setenv("GNUPGHOME", saved.c_str(), 1);
  } else {
    ::unsetenv("GNUPGHOME");
  }
  EXPECT_EQ(setup.verifier->trust().gnupg_home, (dir / "cache" / "gnupg").string());
  EXPECT_FALSE(r) << "a key in GNUPGHOME was trusted";
}

// Item 9: signing.keyring without key_id signs with that keyring's only key; with no secret key it
// is a configuration error naming signing.key_id, never unsigned output.
TEST_F(CacheChainFactory, KeyringWithoutKeyIdSignsWithItsKeyOrIsAConfigError) {
  test::GpgHome keyring;
  {
    App app({}, sources("signing: {keyring: '" + keyring.path() + "'}\n"));
    try {
      auto setup = make_cache_chain(app, {});
      FAIL() << "no error; signer " << (setup.signer ? setup.signer->fingerprint() : "none");
    } catch (const ConfigurationError& e) {
      EXPECT_NE(e.render().find("signing.key_id"), std::string::npos) << e.render();
      EXPECT_NE(e.render().find(keyring.path()), std::string::npos) << e.render();
    }
  }
  const auto fpr = GpgSigner::generate_key(keyring.path(), "Site <site@example.invalid>");
  App app({}, sources("signing: {keyring: '" + keyring.path() + "'}\n"));
  auto setup = make_cache_chain(app, {});
  ASSERT_NE(setup.signer, nullptr);
  EXPECT_EQ(setup.signer->fingerprint(), fpr);
  EXPECT_TRUE(setup.verifier->verify_detached("m", setup.signer->sign_detached("m")));
}

// Item 18/9: a key from signing.private_key_file lives in a temporary keyring under cache_dir;
// its public part goes into the trust anchor, so what it signs verifies (also after it is gone).
TEST_F(CacheChainFactory, PrivateKeyFileSignsAndItsSignaturesVerifyAgainstTheAnchor) {
  test::GpgHome origin;
  const auto fpr = GpgSigner::generate_key(origin.path(), "CI <ci@example.invalid>");
  ASSERT_EQ(std::system(("gpg --batch --quiet --homedir '" + origin.path() +
                         "' --armor --export-secret-keys " + fpr + " > '" +
                         (dir / "key.asc").string() + "' 2>/dev/null")
                            .c_str()),
            0);
  const auto src = sources("signing: {private_key_file: '" + (dir / "key.asc").string() + "'}\n");
  std::string sig;
  {
    App app({}, src);
    auto setup = make_cache_chain(app, {});
    ASSERT_NE(setup.signer, nullptr);
    EXPECT_EQ(setup.signer->fingerprint(), fpr);
    sig = setup.signer->sign_detached("m");
    bool temp_under_cache = false;
    for (const auto& e : fs::directory_iterator(dir / "cache"))
      temp_under_cache |= e.path().filename().string().rfind("sf-gnupg-", 0) == 0;
    EXPECT_TRUE(temp_under_cache);
  }
  for (const auto& e : fs::directory_iterator(dir / "cache"))
    EXPECT_NE(e.path().filename().string().rfind("sf-gnupg-", 0), 0U) << e.path();
  App app({}, src);
  CacheChainRequest read_only;
  read_only.want_signer = false;
  auto setup = make_cache_chain(app, read_only);
  auto ok = setup.verifier->verify_detached("m", sig);
  EXPECT_TRUE(ok) << ok.error().message;
}

// Item 11: the automatic key writing a remote layer is refused until the key is shared (exported
// from here, or a peer's key imported); a configured key or trusted fingerprints are fine.
TEST_F(CacheChainFactory, AutomaticKeyWritingARemoteLayerIsRefusedUntilShared) {
  const std::string s3 =
      "cache:\n  layers:\n"
      "    - {name: local, type: local, url: 'file://" +
      (dir / "cache" / "cache").string() +
      "', writable: true}\n"
      "    - {name: site-s3, type: s3, url: 's3://bucket/p', writable: true,\n"
      "       settings: {endpoint: 'http://127.0.0.1:9', region: us-east-1}}\n";
  const auto src = sources(s3, "cache-local, cache-s3");
  std::string own;
  {
    App app({}, src);
    try {
      (void)make_cache_chain(app, {});
      FAIL() << "two machines' automatic keys could write one S3 layer";
    } catch (const ConfigurationError& e) {
      const std::string text = e.render();
      EXPECT_NE(text.find("site-s3"), std::string::npos) << text;
      EXPECT_NE(text.find("cache keys export"), std::string::npos) << text;
      EXPECT_NE(text.find("cache keys import"), std::string::npos) << text;
      EXPECT_NE(text.find("signing.private_key_file"), std::string::npos) << text;
      EXPECT_NE(text.find("c.yaml"), std::string::npos) << text;  // where the layer is set
    }
    CacheChainRequest read_only;
    read_only.want_signer = false;
    EXPECT_NO_THROW((void)make_cache_chain(app, read_only));  // list / pull / verify stay usable
  }
  {
    // A peer's key imported (recorded trusted): the site shares keys.
    test::GpgHome peer;
    const auto fpr = GpgSigner::generate_key(peer.path(), "Peer <p@example.invalid>");
    record_trusted_keys((dir / "cache" / "gnupg").string(), {fpr});
    App app({}, src);
    EXPECT_NO_THROW((void)make_cache_chain(app, {}));
    fs::remove(trusted_keys_file((dir / "cache" / "gnupg").string()));
    App again({}, src);
    EXPECT_THROW((void)make_cache_chain(again, {}), ConfigurationError);
  }
  {
    // Exported from here: this machine's key is the site's signer.
    mark_keyring_shared((dir / "cache" / "gnupg").string());
    App app({}, src);
    EXPECT_NO_THROW((void)make_cache_chain(app, {}));
  }
  {
    // The default config (local layer only) is never refused.
    App app({}, sources());
    EXPECT_NO_THROW((void)make_cache_chain(app, {}));
  }
}

// Item 19: the hints of a refused entry name real settings, not flags that do not exist.
TEST_F(CacheChainFactory, RefusedEntryHintsNameRealSettings) {
  const auto key = test::sample_key("plain", "e");
  const auto files = test::make_entry(dir.path() / "work", key, nullptr);  // unsigned
  EntryTrustPolicy policy;
  auto r = verify_cache_entry(files, policy, key.base());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("--allow-unsigned"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("signing.allow_unsigned"), std::string::npos)
      << r.error().message;

  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "local", "file://" + (dir / "c").string()));
  CacheChainOptions co;
  co.require_signed = true;
  CacheChain chain(std::move(layers), co);
  chain.put(key, files);
  try {
    (void)chain.get(key, dir / "got");
    FAIL() << "an unsigned entry passed require_signed";
  } catch (const CacheError& e) {
    const std::string text = e.render();
    EXPECT_EQ(text.find("--require-signed"), std::string::npos) << text;
    EXPECT_EQ(text.find("--allow-unsigned"), std::string::npos) << text;
    EXPECT_NE(text.find("signing.require_signed"), std::string::npos) << text;
  }
}

// A config whose cache layers are `layers` (YAML lines under cache.layers), in a fresh folder.
struct LayersConfig {
  explicit LayersConfig(const std::string& layers) {
    dir = fs::temp_directory_path() /
          ("sf-ccf-layers-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "c.yaml") << "cache_dir: " << (dir / "cache").string() << "\n"
                                  << "plugins: {search_paths: [" << SF_TEST_PLUGIN_DIR
                                  << "], load: [cache-local]}\n"
                                  << "cache:\n  layers:\n"
                                  << layers;
    sources.read_system_file = false;
    sources.read_user_file = false;
    sources.environment = {{"HOME", dir.string()}};
    sources.files = {dir / "c.yaml"};
  }
  ~LayersConfig() { fs::remove_all(dir); }
  // The ConfigurationError make_cache_chain throws (fails the test when none is thrown).
  ConfigurationError chain_error() {
    App app({}, sources);
    CacheChainRequest read_only;
    read_only.want_signer = false;
    try {
      (void)make_cache_chain(app, read_only);
    } catch (const ConfigurationError& e) {
      return e;
    }
    ADD_FAILURE() << "make_cache_chain accepted the config";
    return ConfigurationError("none");
  }
  static inline int counter = 0;
  fs::path dir;
  ConfigSources sources;
};

// An unknown key in a provider's settings is a config error at file:line:col, with a
// did-you-mean, like every other unknown key.
TEST(CacheChainFactorySettings, UnknownProviderSettingIsAConfigErrorAtFileLineWithDidYouMean) {
  LayersConfig c(
      "    - name: site-s3\n"
      "      type: s3\n"
      "      url: s3://bucket/prefix\n"
      "      settings:\n"
      "        endpoint: http://127.0.0.1:1\n"
      "        regoin: eu-west-1\n");
  const auto e = c.chain_error();
  EXPECT_NE(std::string(e.what()).find("unknown key 'regoin'"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("site-s3"), std::string::npos) << e.what();
  EXPECT_EQ(e.context_value("file"), (c.dir / "c.yaml").string() + ":10:17") << e.render();
  EXPECT_EQ(e.context_value("key"), "cache.layers[0].settings.regoin");
  EXPECT_NE(e.remediation().find("did you mean 'region'?"), std::string::npos) << e.remediation();
}

TEST(CacheChainFactorySettings, ALocalLayerTakesNoSettings) {
  LayersConfig c(
      "    - name: mine\n"
      "      type: local\n"
      "      url: file:///tmp/sf-ccf-none\n"
      "      settings: {retries: 3}\n");
  const auto e = c.chain_error();
  EXPECT_NE(std::string(e.what()).find("unknown key 'retries'"), std::string::npos) << e.what();
  EXPECT_NE(e.context_value("file").find("c.yaml:8:"), std::string::npos) << e.render();
  EXPECT_NE(e.remediation().find("takes only public_url"), std::string::npos) << e.remediation();
}

// access_key_id_env naming an unset variable: a config error naming the layer, the variable and
// where the setting was written; never a request with an empty key id.
TEST(CacheChainFactorySettings, UnsetAccessKeyVariableIsAConfigErrorNamingLayerAndVariable) {
  ::unsetenv("SF_CCF_NO_SUCH_KEY_ID");
  ::setenv("SF_CCF_SECRET", "x", 1);
  LayersConfig c(
      "    - name: site-s3\n"
      "      type: s3\n"
      "      url: s3://bucket/prefix\n"
      "      settings:\n"
      "        endpoint: http://127.0.0.1:1\n"
      "        access_key_id_env: SF_CCF_NO_SUCH_KEY_ID\n"
      "        secret_access_key_env: SF_CCF_SECRET\n");
  const auto e = c.chain_error();
  EXPECT_NE(std::string(e.what()).find("'site-s3'"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("SF_CCF_NO_SUCH_KEY_ID"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("not set"), std::string::npos) << e.what();
  EXPECT_EQ(e.context_value("file"), (c.dir / "c.yaml").string() + ":10:28") << e.render();
}

}  // namespace
}  // namespace sf
