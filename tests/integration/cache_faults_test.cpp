// The http provider and the chain under faults, against a local HTTP server that serves a real
// cache directory: 503 then success (retried), a hang (timeout, layer switched off, the next layer
// serves), read-only writes, listing through index.json.
#include <gtest/gtest.h>

#include <atomic>

#include "../support/cache_fixture.hpp"
#include "../support/test_http_server.hpp"
#include "cache/cache_chain.hpp"
#include "signing/gpg_verifier.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

// Serves files under `root`; the behaviour switches per test.
struct StaticServer {
  fs::path root;
  std::atomic<int> fail_next{0};
  std::atomic<bool> hang{false};
  std::atomic<bool> pad_tarballs{false};  // send 4 MiB more than the manifest declares
  test::TestHttpServer server{[this](const test::HttpRequestSeen& r) { return answer(r); }};

  test::HttpReply answer(const test::HttpRequestSeen& r) {
    if (hang) return {200, {}, "", std::chrono::milliseconds(20000), false};
    if (fail_next > 0) {
      --fail_next;
      return {503, {}, "try later", {}, false};
    }
    if (r.method != "GET" && r.method != "HEAD") return {405, {}, "", {}, false};
    fs::path p = root / r.target.substr(1);
    if (r.target.find("..") != std::string::npos || !fs::is_regular_file(p))
      return {404, {}, "", {}, false};
    test::HttpReply reply{200, {}, test::read_file(p), {}, false};
    if (pad_tarballs && r.target.size() > 8 &&
        r.target.compare(r.target.size() - 8, 8, ".tar.zst") == 0)
      reply.body += std::string(std::size_t{4} << 20, 'J');
    if (r.method == "HEAD")
      reply.headers.emplace_back("Content-Length", std::to_string(reply.body.size()));
    return reply;
  }
};

class CacheFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    fpr = GpgSigner::generate_key(home.path(), "F <f@example.invalid>");
    signer = std::make_unique<GpgSigner>(GpgSignerOptions{home.path(), fpr, {}, {}, {}, {}});
    verifier = std::make_unique<GpgVerifier>(GpgTrust{home.path(), {}});
    published.root = dir / "published";
    key = test::sample_key();
    auto entry = test::make_entry(dir.path(), key, signer.get());
    auto layer = test::make_layer("local", "pub", "file://" + published.root.string());
    CacheChain c({}, {});
    ASSERT_TRUE(c.put_to(*layer, key, entry));
    ASSERT_TRUE(rebuild_cache_index(*layer, dir.path()));
  }
  std::unique_ptr<CacheProvider> http_layer() {
    return test::make_layer(
        "http", "cdn", published.server.url("/"), false,
        {{"retries", 3}, {"low_speed_time_s", 1}, {"connect_timeout_ms", 1000}});
  }
  CacheChainOptions options() {
    CacheChainOptions o;
    o.trust.verifier = verifier.get();
    o.staging_dir = dir.path();
    return o;
  }
  test::TempDir dir{"sf-faults"};
  test::GpgHome home;
  std::string fpr;
  std::unique_ptr<GpgSigner> signer;
  std::unique_ptr<GpgVerifier> verifier;
  StaticServer published;
  CacheEntryKey key;
};

TEST_F(CacheFaults, HttpLayerServesRetriesAndIsReadOnly) {
  auto layer = http_layer();
  published.fail_next = 2;  // 503, 503, then the object
  auto has = layer->has(key.manifest());
  ASSERT_TRUE(has) << has.error().message;
  EXPECT_TRUE(*has);
  test::write_file(dir / "x", "x");
  auto put = layer->put("x", dir / "x");
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().kind, Failure::Kind::kReadOnly);
  auto listed = layer->list("debian-bookworm/");
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->size(), 3U) << test::read_file(published.root / "index.json")
                                << test::read_file(published.root /
                                                   "debian-bookworm/x86_64/index.json");

  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "local", "file://" + (dir / "local").string()));
  layers.push_back(http_layer());
  CacheChain chain(std::move(layers), options());
  auto hit = chain.get(key, dir / "got");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->layer, "cdn");
  EXPECT_TRUE(fs::exists(dir / ("local/" + key.tarball())));
}

TEST_F(CacheFaults, HangingLayerTimesOutIsSwitchedOffAndTheNextServes) {
  // Same entry also in a slower local mirror behind the CDN.
  auto mirror_url = "file://" + published.root.string();
  std::vector<std::unique_ptr<CacheProvider>> layers;
  auto cdn =
      test::make_layer("http", "cdn", published.server.url("/"), false,
                       {{"retries", 1}, {"low_speed_time_s", 1}, {"connect_timeout_ms", 1000}});
  layers.push_back(std::move(cdn));
  layers.push_back(test::make_layer("local", "mirror", mirror_url, false));
  CacheChain chain(std::move(layers), options());
  published.hang = true;
  auto start = std::chrono::steady_clock::now();
  auto hit = chain.get(key, dir / "got");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->layer, "mirror");
  EXPECT_FALSE(chain.enabled("cdn"));
  // Switched off: the second lookup does not wait for the hang again.
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(chain.get(key, dir / "got2"));
  EXPECT_LT(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(900));
  EXPECT_LT(t1 - start, std::chrono::seconds(10));
  published.hang = false;
}

TEST_F(CacheFaults, TamperedTarballOnServerIsRejectedNothingExtracted) {
  {
    std::fstream f(published.root / key.tarball(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(64);
    f.put('Z');
  }
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(http_layer());
  CacheChain chain(std::move(layers), options());
  EXPECT_FALSE(chain.get(key, dir / "got"));
  EXPECT_FALSE(fs::exists(dir / ("got/" + key.tarball())));
}

// A layer that sends more than the manifest declares for the tarball: the download stops at the
// declared size, the layer is switched off as broken (not merely a bad entry), nothing is kept.
TEST_F(CacheFaults, TarballLongerThanTheManifestSaysIsCutOffAndTheLayerSwitchedOff) {
  published.pad_tarballs = true;
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(http_layer());
  CacheChain chain(std::move(layers), options());
  EXPECT_FALSE(chain.get(key, dir / "got"));
  EXPECT_FALSE(chain.enabled("cdn"));
  EXPECT_FALSE(fs::exists(dir / ("got/" + key.tarball())));
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    EXPECT_FALSE(e.is_regular_file() && fs::file_size(e.path()) > (std::size_t{4} << 20))
        << "an over-long body was kept: " << e.path();
  }
  published.pad_tarballs = false;
}

}  // namespace
}  // namespace sf
