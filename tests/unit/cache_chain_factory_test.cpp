#include "slurm_factory/core/cache_chain_factory.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "slurm_factory/core/app.hpp"
#include "slurm_factory/core/config_loader.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

// With no signing configured, the chain signs with a local key of the cache, made on first use
// and reused after, and trusts it: a rebuild on the same machine reuses its own entries.
TEST(CacheChainFactory, NoSigningConfiguredMakesAndReusesALocalCacheKey) {
  const fs::path dir = fs::temp_directory_path() / ("sf-ccf-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "c.yaml") << "cache_dir: " << (dir / "cache").string() << "\n"
                                << "plugins: {search_paths: [" << SF_TEST_PLUGIN_DIR
                                << "], load: [cache-local]}\n";
  ConfigSources sources;
  sources.read_system_file = false;
  sources.read_user_file = false;
  sources.environment = {{"HOME", dir.string()}};
  sources.files = {dir / "c.yaml"};

  std::string first;
  {
    App app({}, sources);
    auto setup = make_cache_chain(app, {});
    ASSERT_NE(setup.signer, nullptr);
    first = setup.signer->fingerprint();
    EXPECT_FALSE(first.empty());
    EXPECT_TRUE(fs::exists(dir / "cache" / "gnupg"));
  }
  {
    App app({}, sources);
    auto setup = make_cache_chain(app, {});
    ASSERT_NE(setup.signer, nullptr);
    EXPECT_EQ(setup.signer->fingerprint(), first);  // the same key, not a new one
  }
  {
    App app({}, sources);
    CacheChainRequest read_only;
    read_only.want_signer = false;
    auto setup = make_cache_chain(app, read_only);
    EXPECT_EQ(setup.signer, nullptr);  // read-only commands never open the key
  }
  std::system(
      ("gpgconf --homedir '" + (dir / "cache" / "gnupg").string() + "' --kill all >/dev/null 2>&1")
          .c_str());
  fs::remove_all(dir);
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
TEST(CacheChainFactory, UnknownProviderSettingIsAConfigErrorAtFileLineWithDidYouMean) {
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

TEST(CacheChainFactory, ALocalLayerTakesNoSettings) {
  LayersConfig c(
      "    - name: mine\n"
      "      type: local\n"
      "      url: file:///tmp/sf-ccf-none\n"
      "      settings: {retries: 3}\n");
  const auto e = c.chain_error();
  EXPECT_NE(std::string(e.what()).find("unknown key 'retries'"), std::string::npos) << e.what();
  EXPECT_NE(e.context_value("file").find("c.yaml:8:"), std::string::npos) << e.render();
  EXPECT_NE(e.remediation().find("takes no settings"), std::string::npos) << e.remediation();
}

// access_key_id_env naming an unset variable: a config error naming the layer, the variable and
// where the setting was written; never a request with an empty key id.
TEST(CacheChainFactory, UnsetAccessKeyVariableIsAConfigErrorNamingLayerAndVariable) {
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
