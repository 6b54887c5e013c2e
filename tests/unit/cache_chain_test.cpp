#include "cache/cache_chain.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "../support/cache_fixture.hpp"
#include "signing/gpg_verifier.hpp"
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

// Wraps a layer and records, on every get, the staging folder the chain downloads into (the
// nearest ancestor of the destination named like a staging folder) and its permissions.
class RecordingLayer final : public CacheProvider {
 public:
  explicit RecordingLayer(std::unique_ptr<CacheProvider> inner) : inner_(std::move(inner)) {}
  std::vector<std::pair<fs::path, fs::perms>> staging;
  std::string name() const override { return inner_->name(); }
  bool writable() const override { return inner_->writable(); }
  Expected<bool> has(const std::string& k) override { return inner_->has(k); }
  Expected<void> get(const std::string& k, const fs::path& d) override {
    for (fs::path p = d.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      const std::string n = p.filename().string();
      if (n.rfind(".sf-tmp-", 0) == 0 || n.rfind("sf-cache-", 0) == 0) {
        std::error_code ec;
        fs::create_directories(d.parent_path(), ec);
        staging.emplace_back(p, fs::status(p).permissions() & fs::perms::all);
        break;
      }
    }
    return inner_->get(k, d);
  }
  Expected<void> put(const std::string& k, const fs::path& s) override { return inner_->put(k, s); }
  Expected<std::vector<CacheObject>> list(const std::string& p) override { return inner_->list(p); }
  Expected<void> remove(const std::string& k) override { return inner_->remove(k); }

 private:
  std::unique_ptr<CacheProvider> inner_;
};

std::size_t temps_under(const fs::path& d) {
  std::size_t n = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().rfind(".sf-tmp-", 0) == 0) ++n;
  return n;
}

TEST_F(CacheChainTest, AHitStagedOnAnotherFileSystemIsCopiedIntoPlace) {
  // Staging on tmpfs (/dev/shm), the destination on the root file system: the move crosses file
  // systems (EXDEV) and must still leave the three files in place.
  auto key = test::sample_key();
  auto entry = test::make_entry(dir.path(), key, signer.get());
  const fs::path shm = fs::path("/dev/shm") / ("sf-chain-" + std::to_string(::getpid()));
  auto o = options();
  o.staging_dir = shm;
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "local", url("c")));
  CacheChain chain(std::move(layers), o);
  chain.put(key, entry);
  auto hit = chain.get(key, dir / "got");
  ASSERT_TRUE(hit);
  for (const auto& f : {hit->files.tarball, hit->files.manifest, hit->files.signature})
    EXPECT_TRUE(fs::is_regular_file(f)) << f;
  EXPECT_EQ(test::read_file(hit->files.tarball), test::read_file(entry.tarball));
  EXPECT_EQ(temps_under(shm), 0U);
  fs::remove_all(shm);
}

TEST_F(CacheChainTest, DefaultStagingIsBesideTheDestinationNotInTmpdir) {
  // TMPDIR on tmpfs (Debian trixie's /tmp): with no staging folder configured, a hit must land in
  // the destination all the same, and nothing is left in TMPDIR or beside the destination.
  auto key = test::sample_key();
  auto entry = test::make_entry(dir.path(), key, signer.get());
  auto o = options();
  o.staging_dir.clear();
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "local", url("c")));
  CacheChain chain(std::move(layers), o);
  chain.put(key, entry);
  const fs::path shm = fs::path("/dev/shm") / ("sf-tmpdir-" + std::to_string(::getpid()));
  fs::create_directories(shm);
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", shm.c_str(), 1);
  auto hit = chain.get(key, dir / "got");
  if (old)
    ::setenv("TMPDIR", saved.c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  ASSERT_TRUE(hit);
  EXPECT_TRUE(fs::is_regular_file(dir / ("got/" + key.tarball())));
  EXPECT_TRUE(fs::is_regular_file(dir / ("got/" + key.manifest())));
  EXPECT_TRUE(fs::is_empty(shm));
  EXPECT_EQ(temps_under(dir / "got"), 0U);
  fs::remove_all(shm);
}

TEST_F(CacheChainTest, StagingFoldersArePrivateUnpredictableAndStaleOnesAreCleaned) {
  auto key = test::sample_key();
  auto entry = test::make_entry(dir.path(), key, signer.get());
  // What a killed run left beside the destination: a staging folder of a process that is gone.
  const pid_t gone = [] {
    const pid_t p = ::fork();
    if (p == 0) ::_exit(0);
    int st = 0;
    ::waitpid(p, &st, 0);
    return p;
  }();
  const fs::path stale = dir / "got" / (".sf-tmp-" + std::to_string(gone) + "-AbC123");
  test::write_file(stale / key.tarball(), "half a download");
  auto o = options();
  o.staging_dir.clear();
  auto recording = std::make_unique<RecordingLayer>(test::make_layer("local", "local", url("c")));
  auto* rec = recording.get();
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(std::move(recording));
  CacheChain chain(std::move(layers), o);
  chain.put(key, entry);
  ASSERT_TRUE(chain.get(key, dir / "got"));
  ASSERT_TRUE(chain.get(key, dir / "got"));
  ASSERT_GE(rec->staging.size(), 2U);
  for (const auto& [path, perms] : rec->staging) {
    EXPECT_EQ(path.filename().string().rfind(".sf-tmp-" + std::to_string(::getpid()) + "-", 0), 0U)
        << path;
    EXPECT_EQ(perms, fs::perms::owner_all) << path;
    EXPECT_EQ(path.parent_path(), dir / "got");  // beside the destination: one file system
  }
  EXPECT_NE(rec->staging.front().first, rec->staging.back().first);  // two gets, two folders
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_EQ(temps_under(dir / "got"), 0U);
}

TEST_F(CacheChainTest, TheFullHashIsCheckedNotItsTwelveCharacterPrefix) {
  // Two packages whose hashes share the first 12 characters share a storage key; the manifest of
  // the one stored there names the other hash: a build asking for this hash must not take it.
  CacheEntryKey stored{"debian-bookworm", "x86_64", "hello", "1.0",
                       "0123456789ab" + std::string(52, '1')};
  CacheEntryKey wanted = stored;
  wanted.hash = "0123456789ab" + std::string(52, '2');
  ASSERT_EQ(stored.base(), wanted.base());
  auto entry = test::make_entry(dir.path(), stored, signer.get());
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "local", url("c")));
  CacheChain chain(std::move(layers), options());
  chain.put(stored, entry);
  EXPECT_FALSE(chain.get(wanted, dir / "got"));
  EXPECT_NE(logs.str().find(wanted.hash), std::string::npos) << logs.str();
  EXPECT_TRUE(chain.get(stored, dir / "got2"));
}

TEST_F(CacheChainTest, AllowUnsignedAcceptsAMissingSignatureNeverABadOne) {
  auto key = test::sample_key("edited", "d");
  auto entry = test::make_entry(dir.path(), key, signer.get());
  std::vector<std::unique_ptr<CacheProvider>> layers;
  layers.push_back(test::make_layer("local", "local", url("c")));
  auto lax = options();
  lax.trust.allow_unsigned = true;
  CacheChain chain(std::move(layers), lax);
  chain.put(key, entry);
  // Edited after signing: the tarball still matches, only the signed text changed.
  const fs::path mpath = dir / ("c/" + key.manifest());
  auto text = test::read_file(mpath);
  text.replace(text.find("\"builder_version\": \""), 20, "\"builder_version\": \"X");
  test::write_file(mpath, text);
  EXPECT_FALSE(chain.get(key, dir / "got"));
  EXPECT_NE(logs.str().find("bad signature"), std::string::npos) << logs.str();
  for (const bool allow : {false, true}) {
    EntryTrustPolicy p;
    p.verifier = verifier.get();
    p.allow_unsigned = allow;
    CacheEntryFiles files{dir / ("c/" + key.tarball()), mpath, dir / ("c/" + key.signature())};
    auto v = verify_cache_entry(files, p, key.base());
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().kind, Failure::Kind::kError) << v.error().message;  // proven bad
  }
  // The same edit without the signature: allow_unsigned accepts it (unsigned), strict does not.
  fs::remove(dir / ("c/" + key.signature()));
  EXPECT_TRUE(chain.get(key, dir / "got3"));
  EntryTrustPolicy strict;
  strict.verifier = verifier.get();
  CacheEntryFiles files{dir / ("c/" + key.tarball()), mpath, {}};
  auto v = verify_cache_entry(files, strict, key.base());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().kind, Failure::Kind::kUnauthorized);  // not trusted, not proven bad
}

TEST_F(CacheChainTest, AnUntrustedSignerIsNotTrustedButNotProvenBad) {
  test::GpgHome stranger;
  const auto sfpr = GpgSigner::generate_key(stranger.path(), "Stranger <s@example.invalid>");
  GpgSigner other(GpgSignerOptions{stranger.path(), sfpr, {}, {}, {}, {}});
  auto key = test::sample_key("strange", "e");
  auto entry = test::make_entry(dir.path(), key, &other);
  EntryTrustPolicy p;
  p.verifier = verifier.get();
  auto v = verify_cache_entry(entry, p, key.base());
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().kind, Failure::Kind::kUnauthorized) << v.error().message;
  p.allow_unsigned = true;
  EXPECT_TRUE(verify_cache_entry(entry, p, key.base()));
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
