// Several processes push and pull the same and different entries into one local cache at once;
// afterwards every entry verifies (signature, sizes, sha256 of the tarball and of every file).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/cache_fixture.hpp"
#include "cache/cache_chain.hpp"
#include "signing/gpg_verifier.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

TEST(CacheConcurrency, ProcessesShareOneLocalCache) {
  test::TempDir dir("sf-conc");
  test::GpgHome home;
  auto fpr = GpgSigner::generate_key(home.path(), "C <c@example.invalid>");
  GpgSigner signer({home.path(), fpr, {}, {}, {}, {}});
  GpgVerifier verifier({home.path(), {}});
  std::vector<CacheEntryKey> keys;
  std::vector<CacheEntryFiles> entries;
  for (char c : std::string("abcd")) {
    keys.push_back(test::sample_key(std::string("pkg") + c, std::string(1, c)));
    entries.push_back(
        test::make_entry(dir / std::string(1, c), keys.back(), &signer, std::string(200000, c)));
  }
  const std::string url = "file://" + (dir / "shared").string();
  (void)test::make_layer("local", "warmup", url);  // load plugins before fork

  const int kProcs = 6;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int bad = 0;
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < keys.size(); ++i) {
          size_t k = (i + static_cast<size_t>(p)) % keys.size();
          std::vector<std::unique_ptr<CacheProvider>> layers;
          layers.push_back(test::make_layer("local", "local", url));
          CacheChainOptions o;
          o.trust.verifier = &verifier;
          o.staging_dir = dir / ("stage" + std::to_string(p));
          CacheChain chain(std::move(layers), o);
          if (chain.put(keys[k], entries[k]).size() != 1) ++bad;
          auto hit = chain.get(keys[k], dir / ("got" + std::to_string(p)));
          if (!hit) ++bad;
        }
      }
      _exit(bad == 0 ? 0 : 1);
    }
    pids.push_back(pid);
  }
  for (auto pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EntryTrustPolicy deep{&verifier, false, true};
  auto layer = test::make_layer("local", "local", url);
  for (const auto& key : keys) {
    auto files = CacheEntryFiles::under(dir / "shared", key);
    auto ok = verify_cache_entry(files, deep, key.base());
    EXPECT_TRUE(ok) << key.base() << ": " << ok.error().message;
  }
  auto listed = layer->list("");
  ASSERT_TRUE(listed);
  for (const auto& o : *listed) EXPECT_EQ(o.key.find(".tmp."), std::string::npos) << o.key;
  EXPECT_EQ(listed->size(), keys.size() * 3);
}

}  // namespace
}  // namespace sf
