#include "slurm_factory/core/cache_chain.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "../support/cache_fixture.hpp"
#include "slurm_factory/core/gpg_verifier.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

// A layer whose every call fails: stands for a dead server (pure-logic fake).
class BrokenLayer final : public CacheProvider {
 public:
  int calls = 0;
  std::string name() const override { return "broken"; }
  bool writable() const override { return true; }
  Expected<bool> has(const std::string&) override { return fail(); }
  Expected<void> get(const std::string&, const fs::path&) override { return fail(); }
  Expected<void> put(const std::string&, const fs::path&) override { return fail(); }
  Expected<std::vector<CacheObject>> list(const std::string&) override { return fail(); }
  Expected<void> remove(const std::string&) override { return fail(); }

 private:
  Failure fail() {
    ++calls;
    return Failure::timeout("GET http://127.0.0.1:9/x timed out");
  }
};

class CacheChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fpr = GpgSigner::generate_key(home.path(), "Cache <c@example.invalid>");
    signer = std::make_unique<GpgSigner>(GpgSignerOptions{home.path(), fpr, {}, {}, {}, {}});
    verifier = std::make_unique<GpgVerifier>(GpgTrust{home.path(), {}});
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(logs);
    set_log(std::make_shared<spdlog::logger>("test", sink));
  }
  void TearDown() override {
    set_log(std::make_shared<spdlog::logger>(
        "slurm-factory", std::make_shared<spdlog::sinks::ostream_sink_mt>(std::cerr)));
  }
  CacheChainOptions options() {
    CacheChainOptions o;
    o.trust.verifier = verifier.get();
    o.staging_dir = dir.path();
    return o;
  }
  std::string url(const std::string& sub) { return "file://" + (dir / sub).string(); }

  test::TempDir dir{"sf-chain"};
  test::GpgHome home;
  std::string fpr;
  std::unique_ptr<GpgSigner> signer;
  std::unique_ptr<GpgVerifier> verifier;
  std::ostringstream logs;
};

TEST_F(CacheChainTest, PutWritesEveryWritableLayerAndGetCopiesIntoFasterOnes) {
  auto key = test::sample_key();
  auto entry = test::make_entry(dir.path(), key, signer.get());
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "fast", url("fast")));
  layers.push_back(test::make_layer("local", "slow", url("slow")));
  layers.push_back(test::make_layer("local", "ro", url("ro"), false));
  CacheChain chain(std::move(layers), options());
  EXPECT_EQ(chain.put(key, entry), (std::vector<std::string>{"fast", "slow"}));
  EXPECT_FALSE(fs::exists(dir / ("ro/" + key.manifest())));

  fs::remove_all(dir / "fast");
  auto hit = chain.get(key, dir / "got");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->layer, "slow");
  EXPECT_EQ(hit->manifest.name, "hello");
  EXPECT_TRUE(fs::exists(dir / ("fast/" + key.tarball())));  // copied up
  EXPECT_TRUE(fs::exists(dir / ("fast/" + key.signature())));
  auto again = chain.get(key, dir / "got2");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->layer, "fast");
}

TEST_F(CacheChainTest, TamperedTarballIsSkippedWithAWarningNamingEntryAndReason) {
  auto key = test::sample_key();
  auto entry = test::make_entry(dir.path(), key, signer.get());
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "local", url("c")));
  CacheChain chain(std::move(layers), options());
  chain.put(key, entry);
  {
    std::fstream f(dir / ("c/" + key.tarball()), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('X');
  }
  EXPECT_FALSE(chain.get(key, dir / "got"));
  EXPECT_NE(logs.str().find(key.base()), std::string::npos) << logs.str();
  EXPECT_NE(logs.str().find("sha256"), std::string::npos) << logs.str();
  EXPECT_FALSE(fs::exists(dir / ("got/" + key.tarball())));

  auto strict = options();
  strict.require_signed = true;
  std::vector<std::unique_ptr<CacheProvider>> layers2;
  layers2.push_back(test::make_layer("local", "local", url("c")));
  CacheChain strict_chain(std::move(layers2), strict);
  EXPECT_THROW(strict_chain.get(key, dir / "got"), CacheError);
}

TEST_F(CacheChainTest, TamperedManifestAndUnsignedEntriesAreRejectedUnlessAllowed) {
  auto key = test::sample_key();
  auto entry = test::make_entry(dir.path(), key, nullptr);  // unsigned
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "local", url("c")));
  CacheChain chain(std::move(layers), options());
  chain.put(key, entry);
  EXPECT_FALSE(chain.get(key, dir / "got"));
  EXPECT_NE(logs.str().find("not signed"), std::string::npos) << logs.str();

  auto lax = options();
  lax.trust.allow_unsigned = true;
  std::vector<std::unique_ptr<CacheProvider>> l2;
  l2.push_back(test::make_layer("local", "local", url("c")));
  CacheChain lax_chain(std::move(l2), lax);
  EXPECT_TRUE(lax_chain.get(key, dir / "got"));

  // A signed entry whose manifest is edited afterwards.
  auto key2 = test::sample_key("other", "b");
  auto signed_entry = test::make_entry(dir.path(), key2, signer.get());
  chain.put(key2, signed_entry);
  auto mpath = dir / ("c/" + key2.manifest());
  auto text = test::read_file(mpath);
  text.replace(text.find("\"1.0\""), 5, "\"1.1\"");
  test::write_file(mpath, text);
  EXPECT_FALSE(chain.get(key2, dir / "got"));
  EXPECT_NE(logs.str().find("bad signature"), std::string::npos) << logs.str();
}

TEST_F(CacheChainTest, FailingLayerIsSwitchedOffOnceAndOthersServe) {
  auto key = test::sample_key();
  auto entry = test::make_entry(dir.path(), key, signer.get());
  auto broken = std::make_unique<BrokenLayer>();
  auto* broken_ptr = broken.get();
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(std::move(broken));
  layers.push_back(test::make_layer("local", "local", url("c")));
  CacheChain chain(std::move(layers), options());
  EXPECT_EQ(chain.put(key, entry), std::vector<std::string>{"local"});
  EXPECT_FALSE(chain.enabled("broken"));
  auto hit = chain.get(key, dir / "got");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->layer, "local");
  EXPECT_EQ(broken_ptr->calls, 1);
  std::string l = logs.str();
  auto first = l.find("switched off");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(l.find("switched off", first + 1), std::string::npos) << l;
}

TEST_F(CacheChainTest, NoCacheBypassesReads) {
  auto key = test::sample_key();
  auto entry = test::make_entry(dir.path(), key, signer.get());
  auto o = options();
  o.no_cache = true;
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "local", url("c")));
  CacheChain chain(std::move(layers), o);
  EXPECT_EQ(chain.put(key, entry).size(), 1U);
  EXPECT_FALSE(chain.get(key, dir / "got"));
}

TEST_F(CacheChainTest, IndexListsEntries) {
  auto key = test::sample_key();
  auto entry = test::make_entry(dir.path(), key, signer.get());
  auto layer = test::make_layer("local", "local", url("c"));
  CacheChain chain({}, options());
  ASSERT_TRUE(chain.put_to(*layer, key, entry));
  auto n = rebuild_cache_index(*layer, dir.path());
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 1U);
  auto idx = nlohmann::json::parse(test::read_file(dir / "c/debian-bookworm/x86_64/index.json"));
  EXPECT_EQ(idx["entries"][0]["name"], "hello");
  EXPECT_EQ(idx["entries"][0]["signed"], true);
}

TEST(LocalCacheOverride, ReplacesOrAddsTheLocalLayer) {
  std::vector<CacheLayerSpec> layers{{"site", "s3", "s3://b/p", true, {}}};
  apply_local_cache_override(layers, "/tmp/x");
  ASSERT_EQ(layers.size(), 2U);
  EXPECT_EQ(layers[0].type, "local");
  EXPECT_EQ(layers[0].url, "file:///tmp/x");
  apply_local_cache_override(layers, "/tmp/y");
  EXPECT_EQ(layers.size(), 2U);
  EXPECT_EQ(layers[0].url, "file:///tmp/y");
}

}  // namespace
}  // namespace sf
