// The cache CLI round trip against a real S3 server (s3rver): entries made with a throwaway key go
// to the local layer, `cache push --all` sends them to S3, the local layer is wiped, `cache pull
// --all` brings them back, and `cache verify` passes on both layers (signatures and every sha256).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../support/cache_fixture.hpp"
#include "../support/layers_config.hpp"
#include "../support/s3rver.hpp"
#include "slurm_factory/core/cli/cli.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace sf {
namespace {

TEST(CacheCommandsS3, PushAllWipePullAllVerify) {
  test::S3rver server("sf-cli");
  test::TempDir dir("sf-cachecli");
  test::GpgHome gpg;
  ::setenv("XDG_CONFIG_HOME", (dir / "xdg").c_str(), 1);
  ::setenv("SLURM_FACTORY_CACHE_DIR", (dir / "home").c_str(), 1);
  ::unsetenv("SLURM_FACTORY_PLUGIN_PATH");
  const auto fpr = GpgSigner::generate_key(gpg.path(), "Round Trip <rt@test.invalid>");
  GpgSigner signer(GpgSignerOptions{gpg.path(), fpr, {}, {}, {}, {}});
  const fs::path local = dir / "local";
  const fs::path config = dir / "config.yaml";
  std::ofstream(config) << test::local_and_s3_layers(
                               local, server, ", multipart_threshold: 1048576, part_size: 5242880")
                        << "signing:\n  keyring: '" << gpg.path() << "'\n  trusted_fingerprints: ["
                        << fpr << "]\n  require_signed: true\n";

  std::vector<CacheEntryKey> keys;
  for (const auto& [name, h] : {std::pair{"json-c", "a"}, {"lz4", "b"}, {"slurm", "c"}}) {
    auto key = test::sample_key(name, h);
    auto files = test::make_entry(dir / "work", key, &signer, std::string(3 << 20, 'x') + name);
    for (auto [from, k] :
         {std::pair{files.tarball, key.tarball()}, std::pair{files.manifest, key.manifest()},
          std::pair{files.signature, key.signature()}}) {
      fs::create_directories((local / k).parent_path());
      fs::copy_file(from, local / k);
    }
    keys.push_back(key);
  }
  std::ostringstream out, err;
  auto run = [&](std::vector<std::string> args) {
    out.str("");
    err.str("");
    std::vector<std::string> full{"--config", config.string()};
    full.insert(full.end(), args.begin(), args.end());
    return cli::run(full, out, err);
  };

  ASSERT_EQ(run({"cache", "push", "--all"}), 0) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("3 pushed"));
  ASSERT_EQ(run({"cache", "verify", "--layer", "site-s3"}), 0) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("3 entries checked, 0 bad"));
  ASSERT_EQ(run({"cache", "index", "--layer", "site-s3"}), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("indexed 3 entries"));

  fs::remove_all(local);
  ASSERT_EQ(run({"--json", "cache", "list", "--layer", "local"}), 0) << err.str();
  EXPECT_EQ(nlohmann::json::parse(out.str()).size(), 0U);

  ASSERT_EQ(run({"cache", "pull", "--all"}), 0) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("3 pulled"));
  for (const auto& k : keys) {
    EXPECT_TRUE(fs::exists(local / k.tarball())) << k.base();
    EXPECT_TRUE(fs::exists(local / k.signature())) << k.base();
  }
  ASSERT_EQ(run({"cache", "verify"}), 0) << out.str() << err.str();
  EXPECT_THAT(out.str(), HasSubstr("6 entries checked, 0 bad"));

  // Both layers list the three entries.
  ASSERT_EQ(run({"--json", "cache", "list"}), 0) << err.str();
  auto listed = nlohmann::json::parse(out.str());
  EXPECT_EQ(listed.size(), 6U);

  // A tampered object in S3 is found, and not pulled.
  test::write_file(dir / "junk", "not a tarball");
  auto s3 = test::make_layer("s3", "site-s3", "s3://" + server.bucket() + "/builds", true,
                             {{"endpoint", server.endpoint()}, {"region", "us-east-1"}});
  ASSERT_TRUE(s3->put(keys[0].tarball(), dir / "junk"));
  EXPECT_EQ(run({"cache", "verify", "--layer", "site-s3"}),
            static_cast<int>(ExitCode::kVerification));
  EXPECT_THAT(out.str(), HasSubstr("BAD  site-s3  " + keys[0].base()));
  fs::remove_all(local);
  EXPECT_EQ(run({"cache", "pull", "--all"}), static_cast<int>(ExitCode::kCache));
  EXPECT_FALSE(fs::exists(local / keys[0].manifest()));
  EXPECT_TRUE(fs::exists(local / keys[1].manifest()));
  ::unsetenv("XDG_CONFIG_HOME");
}

}  // namespace
}  // namespace sf
