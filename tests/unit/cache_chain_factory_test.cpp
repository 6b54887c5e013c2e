#include "slurm_factory/core/cache_chain_factory.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "slurm_factory/core/app.hpp"
#include "slurm_factory/core/config_loader.hpp"

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

}  // namespace
}  // namespace sf
