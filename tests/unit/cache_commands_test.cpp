// `slurm-factory cache ...` through sf::cli::run: real cache-local / cache-http plugins from the
// build tree, temporary cache directories, and a throwaway signing key in a temporary GNUPGHOME.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../support/cache_fixture.hpp"
#include "cli/cli.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

namespace sf {
namespace {

class CacheCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("XDG_CONFIG_HOME", (dir / "xdg").c_str(), 1);
    ::setenv("SLURM_FACTORY_CACHE_DIR", (dir / "home").c_str(), 1);
    ::unsetenv("SLURM_FACTORY_PLUGIN_PATH");
    fingerprint = GpgSigner::generate_key(gpg.path(), "Cache Test <cache@test.invalid>");
    signer = std::make_unique<GpgSigner>(GpgSignerOptions{gpg.path(), fingerprint, {}, {}, {}, {}});
    write_config();
  }
  void TearDown() override { ::unsetenv("XDG_CONFIG_HOME"); }

  void write_config(const std::string& extra_signing = "") {
    std::ofstream(config) << "plugins:\n  search_paths: [" << SF_TEST_PLUGIN_DIR
                          << "]\n  load: [cache-local, cache-http]\n"
                          << "cache:\n  layers:\n"
                          << "    - {name: local, type: local, url: 'file://" << local().string()
                          << "', writable: true}\n"
                          << "    - {name: second, type: local, url: 'file://" << second().string()
                          << "', writable: true}\n"
                          << "    - {name: mirror, type: http, url: 'http://127.0.0.1:9/m/', "
                             "writable: false}\n"
                          << "signing:\n  keyring: '" << gpg.path() << "'\n"
                          << extra_signing;
  }
  fs::path local() const { return dir / "local"; }
  fs::path second() const { return dir / "second"; }

  // Packs a signed entry and stores its files under `root` as a local layer would.
  CacheEntryKey add_entry(const fs::path& root, const std::string& name, const std::string& h,
                          const GpgSigner* with = nullptr) {
    auto key = test::sample_key(name, h);
    auto files = test::make_entry(dir / "work", key, with ? with : signer.get(), name);
    for (auto [from, k] :
         {std::pair{files.tarball, key.tarball()}, std::pair{files.manifest, key.manifest()},
          std::pair{files.signature, key.signature()}}) {
      fs::create_directories((root / k).parent_path());
      fs::copy_file(from, root / k, fs::copy_options::overwrite_existing);
    }
    return key;
  }
  // Flips the byte in the middle of `file`.
  static void flip_byte(const fs::path& file) {
    const auto at = static_cast<std::streamoff>(fs::file_size(file) / 2);
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(at);
    char c = 0;
    f.get(c);
    f.seekp(at);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  static void age(const fs::path& root, const CacheEntryKey& k, int hours) {
    const auto t = fs::file_time_type::clock::now() - std::chrono::hours(hours);
    for (const auto& p : {k.tarball(), k.manifest(), k.signature()})
      fs::last_write_time(root / p, t);
  }

  int run(std::vector<std::string> args) {
    out.str("");
    err.str("");
    std::vector<std::string> full{"--config", config.string()};
    full.insert(full.end(), args.begin(), args.end());
    return cli::run(full, out, err);
  }

  test::TempDir dir{"sf-cachecmd"};
  test::GpgHome gpg;
  std::string fingerprint;
  std::unique_ptr<GpgSigner> signer;
  fs::path config = dir / "config.yaml";
  std::ostringstream out;
  std::ostringstream err;
};

TEST_F(CacheCommands, ListShowsEveryLayersEntries) {
  const auto a = add_entry(local(), "alpha", "a");
  const auto b = add_entry(second(), "beta", "b");
  ASSERT_EQ(run({"cache", "list"}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("LAYER"));
  EXPECT_THAT(out.str(), HasSubstr(a.base()));
  EXPECT_THAT(out.str(), HasSubstr(b.base()));
  EXPECT_THAT(out.str(), HasSubstr("2 entries"));
  ASSERT_EQ(run({"cache", "list", "--layer", "second", "--json"}), 0) << err.str();
  auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j.size(), 1U);
  EXPECT_EQ(j[0]["key"], b.base());
  EXPECT_EQ(j[0]["name"], "beta");
  EXPECT_EQ(j[0]["signed"], true);
  EXPECT_GT(j[0]["size"].get<std::uint64_t>(), 0U);
  EXPECT_EQ(run({"cache", "list", "--layer", "nope"}), static_cast<int>(ExitCode::kUsage));
  EXPECT_THAT(err.str(), HasSubstr("no cache layer named 'nope'"));
}

TEST_F(CacheCommands, PushAllCopiesVerifiedEntriesAndSkipsPresentOnes) {
  const auto a = add_entry(local(), "alpha", "a");
  const auto b = add_entry(local(), "beta", "b");
  ASSERT_EQ(run({"cache", "push", "--all", "--to", "second"}), 0) << err.str() << out.str();
  EXPECT_THAT(out.str(), HasSubstr("2 pushed"));
  for (const auto& k : {a, b}) {
    EXPECT_TRUE(fs::exists(second() / k.tarball()));
    EXPECT_TRUE(fs::exists(second() / k.manifest()));
    EXPECT_TRUE(fs::exists(second() / k.signature()));
  }
  ASSERT_EQ(run({"cache", "verify", "--layer", "second"}), 0) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("2 entries checked, 0 bad"));
  ASSERT_EQ(run({"cache", "push", "--all", "--to", "second"}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("0 pushed (0 B), 2 already there"));
  // Pushing to a read-only layer is refused.
  EXPECT_EQ(run({"cache", "push", "--all", "--to", "mirror"}), static_cast<int>(ExitCode::kCache));
  EXPECT_THAT(err.str(), HasSubstr("read-only"));
}

TEST_F(CacheCommands, PushRefusesATamperedEntry) {
  const auto good = add_entry(local(), "alpha", "a");
  const auto bad = add_entry(local(), "beta", "b");
  flip_byte(local() / bad.tarball());
  EXPECT_EQ(run({"cache", "push", "--all", "--to", "second"}), static_cast<int>(ExitCode::kCache));
  EXPECT_THAT(err.str(), HasSubstr("refused: " + bad.base()));
  EXPECT_THAT(err.str(), HasSubstr("sha256"));
  EXPECT_TRUE(fs::exists(second() / good.manifest()));
  EXPECT_FALSE(fs::exists(second() / bad.manifest()));
  EXPECT_FALSE(fs::exists(second() / bad.tarball()));
}

TEST_F(CacheCommands, PullOneEntryByPartOfItsKey) {
  const auto a = add_entry(second(), "alpha", "a");
  add_entry(second(), "beta", "b");
  ASSERT_EQ(run({"cache", "pull", "alpha"}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("pulled " + a.base() + " second -> local"));
  EXPECT_TRUE(fs::exists(local() / a.manifest()));
  EXPECT_FALSE(fs::exists(local() / test::sample_key("beta", "b").manifest()));
  // Two entries match "1.0-": ambiguous.
  EXPECT_EQ(run({"cache", "pull", "1.0-", "--from", "second"}), static_cast<int>(ExitCode::kUsage));
  EXPECT_THAT(err.str(), HasSubstr("matches 2 entries"));
  // A whole key with a suffix works too.
  const auto b = test::sample_key("beta", "b");
  ASSERT_EQ(run({"cache", "pull", b.tarball(), "--from", "second"}), 0) << err.str();
  EXPECT_TRUE(fs::exists(local() / b.manifest()));
  EXPECT_EQ(run({"cache", "pull", "nothing-like-this"}), static_cast<int>(ExitCode::kCache));
  EXPECT_EQ(run({"cache", "pull"}), static_cast<int>(ExitCode::kUsage));
}

TEST_F(CacheCommands, VerifyListsTamperedAndUntrustedEntriesAndExitsNonZero) {
  const auto good = add_entry(local(), "alpha", "a");
  const auto tampered = add_entry(local(), "beta", "b");
  flip_byte(local() / tampered.tarball());
  test::GpgHome other_home;
  const auto other_fpr = GpgSigner::generate_key(other_home.path(), "Stranger <s@test.invalid>");
  GpgSigner stranger(GpgSignerOptions{other_home.path(), other_fpr, {}, {}, {}, {}});
  const auto untrusted = add_entry(local(), "gamma", "c", &stranger);

  EXPECT_EQ(run({"cache", "verify", "--layer", "local"}),
            static_cast<int>(ExitCode::kVerification));
  EXPECT_THAT(out.str(), HasSubstr("BAD  local  " + tampered.base()));
  EXPECT_THAT(out.str(), HasSubstr("BAD  local  " + untrusted.base()));
  EXPECT_THAT(out.str(), Not(HasSubstr("BAD  local  " + good.base())));
  EXPECT_THAT(out.str(), HasSubstr("3 entries checked, 2 bad"));
  EXPECT_THAT(err.str(), HasSubstr("cache verify --remove"));

  // --remove deletes the entry proven bad (tampered) from the (writable) layer; the one signed by
  // an untrusted key proves nothing and stays.
  ASSERT_EQ(run({"--json", "cache", "verify", "--layer", "local", "--remove"}),
            static_cast<int>(ExitCode::kVerification));
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["bad"], 2) << out.str();
  EXPECT_FALSE(fs::exists(local() / tampered.manifest()));
  EXPECT_FALSE(fs::exists(local() / tampered.tarball()));
  EXPECT_TRUE(fs::exists(local() / untrusted.manifest()));
  EXPECT_TRUE(fs::exists(local() / untrusted.tarball()));
  EXPECT_EQ(run({"cache", "verify", "--layer", "local"}),
            static_cast<int>(ExitCode::kVerification));
  EXPECT_THAT(out.str(), HasSubstr("2 entries checked, 1 bad"));
  // Every layer: the unreachable http mirror cannot be verified, which is an error too.
  EXPECT_EQ(run({"cache", "verify"}), static_cast<int>(ExitCode::kVerification));
  EXPECT_THAT(err.str(), HasSubstr("1 of 2 cache entries failed verification"));
  EXPECT_THAT(err.str(), HasSubstr("cannot list layer 'mirror'"));
  EXPECT_THAT(out.str(), HasSubstr("2 entries checked, 1 bad"));
}

TEST_F(CacheCommands, VerifyAcceptsUnsignedEntriesOnlyWhenAllowed) {
  const auto key = test::sample_key("plain", "d");
  auto files = test::make_entry(dir / "work", key, nullptr);
  fs::create_directories((local() / key.tarball()).parent_path());
  fs::copy_file(files.tarball, local() / key.tarball());
  fs::copy_file(files.manifest, local() / key.manifest());
  EXPECT_EQ(run({"cache", "verify", "--layer", "local"}),
            static_cast<int>(ExitCode::kVerification));
  EXPECT_THAT(out.str(), HasSubstr("BAD  local  " + key.base()));
  EXPECT_THAT(out.str(), HasSubstr("not signed"));
  write_config("  allow_unsigned: true\n");
  EXPECT_EQ(run({"cache", "verify", "--layer", "local"}), 0) << out.str() << err.str();
}

TEST_F(CacheCommands, GcRemovesLeastRecentlyUsedFirst) {
  const auto oldest = add_entry(local(), "alpha", "a");
  const auto middle = add_entry(local(), "beta", "b");
  const auto newest = add_entry(local(), "gamma", "c");
  age(local(), oldest, 72);
  age(local(), middle, 48);
  age(local(), newest, 1);
  const auto one = fs::file_size(local() / newest.tarball()) +
                   fs::file_size(local() / newest.manifest()) +
                   fs::file_size(local() / newest.signature());
  const std::string limit = std::to_string(one + one / 2);  // room for one entry only

  ASSERT_EQ(run({"cache", "gc", "--max-size", limit, "--dry-run"}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("would remove " + oldest.base()));
  EXPECT_TRUE(fs::exists(local() / oldest.manifest()));

  ASSERT_EQ(run({"--json", "cache", "gc", "--max-size", limit}), 0) << err.str();
  auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j["removed"].size(), 2U);
  EXPECT_EQ(j["removed"][0]["key"], oldest.base());
  EXPECT_EQ(j["removed"][1]["key"], middle.base());
  EXPECT_FALSE(fs::exists(local() / oldest.tarball()));
  EXPECT_FALSE(fs::exists(local() / middle.manifest()));
  EXPECT_TRUE(fs::exists(local() / newest.manifest()));

  // By age: the newest (1 hour) stays at one day, goes at a quarter of an hour.
  ASSERT_EQ(run({"cache", "gc", "--older-than", "1"}), 0) << err.str();
  EXPECT_TRUE(fs::exists(local() / newest.manifest()));
  ASSERT_EQ(run({"cache", "gc", "--older-than", "0.01"}), 0) << err.str();
  EXPECT_FALSE(fs::exists(local() / newest.manifest()));
}

TEST_F(CacheCommands, GcRefusesRemoteLayersAndNeedsALimit) {
  EXPECT_EQ(run({"cache", "gc", "--older-than", "3", "--layer", "mirror"}),
            static_cast<int>(ExitCode::kCache));
  EXPECT_THAT(err.str(),
              HasSubstr("cache gc works on local layers only; 'mirror' is a http layer"));
  EXPECT_EQ(run({"cache", "gc"}), static_cast<int>(ExitCode::kUsage));
  EXPECT_THAT(err.str(), HasSubstr("--older-than DAYS or --max-size SIZE"));
  EXPECT_EQ(run({"cache", "gc", "--max-size", "12q"}), static_cast<int>(ExitCode::kUsage));
}

TEST_F(CacheCommands, IndexRebuildsThePerToolchainIndex) {
  add_entry(local(), "alpha", "a");
  add_entry(local(), "beta", "b");
  ASSERT_EQ(run({"cache", "index", "--layer", "local"}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("indexed 2 entries in layer 'local'"));
  std::ifstream in(local() / "debian-bookworm/x86_64/index.json");
  auto j = nlohmann::json::parse(in);
  EXPECT_EQ(j["entries"].size(), 2U);
  EXPECT_EQ(run({"cache", "index", "--layer", "mirror"}), static_cast<int>(ExitCode::kCache));
}

TEST_F(CacheCommands, KeysExportImportAndTrust) {
  ASSERT_EQ(run({"cache", "keys", "export", "--armor"}), 0) << err.str();
  const std::string armored = out.str();
  EXPECT_THAT(armored, HasSubstr("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
  ASSERT_EQ(run({"cache", "keys", "export", fingerprint}), 0) << err.str();
  EXPECT_THAT(out.str(), Not(HasSubstr("BEGIN PGP")));  // binary
  EXPECT_FALSE(out.str().empty());
  EXPECT_EQ(run({"cache", "keys", "export", "nobody@nowhere.invalid"}),
            static_cast<int>(ExitCode::kSigning));

  // A consumer with an empty keyring: entries do not verify until the key is imported.
  const auto key = add_entry(local(), "alpha", "a");
  test::GpgHome consumer;
  test::write_file(dir / "site.asc", armored);
  const std::string consumer_config = (dir / "consumer.yaml").string();
  std::ofstream(consumer_config) << "plugins:\n  search_paths: [" << SF_TEST_PLUGIN_DIR
                                 << "]\n  load: [cache-local]\ncache:\n  layers:\n"
                                 << "    - {name: local, type: local, url: 'file://"
                                 << local().string() << "'}\nsigning:\n  keyring: '"
                                 << consumer.path() << "'\n";
  auto run_consumer = [&](std::vector<std::string> args) {
    out.str("");
    err.str("");
    std::vector<std::string> full{"--config", consumer_config};
    full.insert(full.end(), args.begin(), args.end());
    return cli::run(full, out, err);
  };
  EXPECT_EQ(run_consumer({"cache", "verify"}), static_cast<int>(ExitCode::kVerification));
  ASSERT_EQ(run_consumer({"cache", "keys", "import", (dir / "site.asc").string()}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("imported " + fingerprint));
  EXPECT_EQ(run_consumer({"cache", "verify"}), 0) << out.str() << err.str();

  // trust: prints the snippet; --write puts it into the user config file.
  ASSERT_EQ(run_consumer({"cache", "keys", "trust", fingerprint}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("signing:\n  trusted_fingerprints:\n    - " + fingerprint));
  const fs::path user_file = dir / "xdg/slurm-factory/config.yaml";
  EXPECT_FALSE(fs::exists(user_file));
  ASSERT_EQ(run_consumer({"cache", "keys", "trust", fingerprint, "--write"}), 0) << err.str();
  ASSERT_TRUE(fs::exists(user_file));
  EXPECT_THAT(test::read_file(user_file), HasSubstr(fingerprint));
  // Now only that key is trusted; the entry still verifies.
  EXPECT_EQ(run_consumer({"cache", "verify"}), 0) << out.str() << err.str();
  EXPECT_EQ(run_consumer({"cache", "keys", "trust", "not-a-fingerprint"}),
            static_cast<int>(ExitCode::kUsage));
  (void)key;
}

}  // namespace
}  // namespace sf
