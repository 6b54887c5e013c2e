// Item 9 (trust is explicit, one keyring), 11 (no two automatic keys on one remote layer) and the
// PATH clause of 18, as two machines would live them, with the stand-in "slurm" recipe (plain make,
// built by the real trixie image on docker), a real s3rver, real gpg and the real CLI:
//   machine A (default config, no signing section) builds; `verify` accepts its own artifact; a
//   rerun reuses the signed artifact in under a second; `cache keys export` writes A's automatic
//   key; A pushes to S3. Machine B (empty cache_dir) with the S3 layer is refused until it runs
//   `cache keys import` of A's key; then `build-slurm` takes every entry from S3 (nothing built),
//   `verify` passes for B's and A's artifact, a rerun reuses the artifact in under a second.
//   A stranger's key in $GNUPGHOME / ~/.gnupg signing an artifact is rejected by `verify`, and
//   `signing.keyring` without `key_id` and without a key is a configuration error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "../support/pipeline_fixture.hpp"
#include "../support/s3rver.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace sf {
namespace {

class SharedTrustTest : public test::PipelineFixture {
 protected:
  SharedTrustTest() : PipelineFixture("sf-trust", "Unused <unused@test.invalid>") {}
  static void SetUpTestSuite() { server = new test::S3rver("sf-trust"); }
  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
  }
  void SetUp() override {
    PipelineFixture::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(add_stand_in_slurm(
        "a stand-in for Slurm",
        "#include <stdio.h>\nint main(void) { printf(\"fake sinfo\\n\"); return 0; }\n"));
    // "~/.gnupg" of both machines: a stranger's key, which must never count.
    ::setenv("GNUPGHOME", stranger_.path().c_str(), 1);
    stranger_fpr_ = GpgSigner::generate_key(stranger_.path(), "Stranger <s@test.invalid>");
  }
  void TearDown() override {
    ::unsetenv("GNUPGHOME");
    for (const auto& d : {cache_, b_cache_})
      test::sh("gpgconf --homedir '" + (d / "gnupg").string() + "' --kill all >/dev/null 2>&1");
    PipelineFixture::TearDown();
  }

  // A machine's config: its cache_dir, default signing (no signing section), the local layer and
  // (with_s3) the shared S3 layer.
  fs::path machine_config(const std::string& name, const fs::path& cache_dir, bool with_s3,
                          const std::string& more = "") {
    const fs::path file = dir_ / (name + ".yaml");
    std::string layers = "cache:\n  layers:\n    - {name: local, type: local, url: \"file://" +
                         (cache_dir / "cache").string() + "\", writable: true}\n";
    if (with_s3) {
      layers += "    - name: site-s3\n      type: s3\n      url: s3://" + server->bucket() +
                "/shared\n      writable: true\n      settings: {endpoint: \"" +
                server->endpoint() + "\", region: us-east-1, retries: 0}\n";
    }
    test::write_file(file, "cache_dir: " + cache_dir.string() +
                               "\nplugins:\n  search_paths: [" SF_TEST_PLUGIN_DIR
                               "]\n  load: [toolchain-debian, backend-docker, cache-local, "
                               "cache-s3]\n" +
                               layers + more);
    return file;
  }
  int on(const fs::path& config, std::vector<std::string> args) {
    return test::run_cli(config, args, out_, err_);
  }
  // `--json build-slurm` of the stand-in into `output`; its wall time in `seconds`.
  int build_on(const fs::path& config, const fs::path& output, double* seconds = nullptr) {
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = on(config, {"--json", "build-slurm", "--slurm-version", "24.11.5", "--toolchain",
                               "trixie", "--backend", "docker", "--output", output.string()});
    if (seconds)
      *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return rc;
  }
  static fs::path artifact_in(const fs::path& output) {
    return output / "trixie" / "24.11.5" / "amd64" / "slurm-24.11.5-trixie-amd64-software.tar.zst";
  }

  static test::S3rver* server;
  test::GpgHome stranger_;
  std::string stranger_fpr_;
  fs::path b_cache_ = dir_ / "b-cache";
};
test::S3rver* SharedTrustTest::server = nullptr;

TEST_F(SharedTrustTest, TwoMachinesShareOneKeyThroughExportAndImport) {
  // A: a fake `rm` first in PATH must never run (helpers are not looked up through PATH).
  const fs::path fakebin = dir_ / "fakebin";
  const fs::path marker = dir_ / "fake-rm-ran";
  test::write_file(fakebin / "rm",
                   "#!/bin/sh\ntouch '" + marker.string() + "'\nexec /bin/rm \"$@\"\n");
  fs::permissions(fakebin / "rm", fs::perms::owner_all);
  const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  ::setenv("PATH", (fakebin.string() + ":" + old_path).c_str(), 1);

  // 1. A builds with the default config (local layer only): signed by its automatic key.
  const fs::path a_local = machine_config("a-local", cache_, false);
  const fs::path a_out = dir_ / "a-out";
  ASSERT_EQ(build_on(a_local, a_out), 0) << out_.str() << err_.str();
  auto ev = test::events(out_.str());
  const auto* built = test::find_event(ev, "build", "done");
  ASSERT_NE(built, nullptr) << out_.str();
  EXPECT_EQ((*built)["data"]["built"], 1);
  const fs::path a_artifact = artifact_in(a_out);
  ASSERT_TRUE(fs::is_regular_file(a_artifact));
  // The work folder is removed by a detached /bin/rm: wait for it, then the fake never ran.
  for (int i = 0; i < 100 && fs::exists(cache_ / "work") && !fs::is_empty(cache_ / "work"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::setenv("PATH", old_path.c_str(), 1);
  EXPECT_FALSE(fs::exists(marker)) << "`rm` was looked up through PATH";

  // 2. `verify` accepts A's own artifact; `build-slurm --verify` too.
  ASSERT_EQ(on(a_local, {"--json", "verify", a_artifact.string()}), 0) << out_.str() << err_.str();
  const std::string a_fpr = nlohmann::json::parse(out_.str())["signer"];
  EXPECT_EQ(a_fpr.size(), 40U);
  EXPECT_NE(a_fpr, stranger_fpr_);

  // 3. A rerun reuses the signed artifact, in under a second.
  double seconds = 0;
  ASSERT_EQ(build_on(a_local, a_out, &seconds), 0) << out_.str() << err_.str();
  ev = test::events(out_.str());
  EXPECT_NE(test::find_event(ev, "artifact", "exists"), nullptr) << out_.str() << err_.str();
  EXPECT_LT(seconds, 1.0) << out_.str();

  // 4. A exports its key (a public key block) and pushes its entries to S3.
  const fs::path key_file = dir_ / "a-key.asc";
  ASSERT_EQ(on(a_local, {"cache", "keys", "export", "--armor", "--output", key_file.string()}), 0)
      << err_.str();
  EXPECT_THAT(test::read_file(key_file), HasSubstr("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
  const fs::path a_s3 = machine_config("a-s3", cache_, true);
  ASSERT_EQ(on(a_s3, {"cache", "push", "--all"}), 0) << out_.str() << err_.str();
  // Exported: A may write the shared layer itself (item 11).
  ASSERT_EQ(build_on(a_s3, a_out), 0) << out_.str() << err_.str();

  // 5. B (empty cache_dir) with the shared layer: refused until it shares A's key (item 11).
  const fs::path b_s3 = machine_config("b-s3", b_cache_, true);
  const fs::path b_out = dir_ / "b-out";
  EXPECT_EQ(build_on(b_s3, b_out), static_cast<int>(ExitCode::kConfiguration))
      << out_.str() << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("cache keys import"));
  EXPECT_FALSE(fs::exists(artifact_in(b_out)));

  // 6. B imports A's key; build-slurm takes every entry from S3, nothing is built. (The pipeline
  // still verifies the sources before it asks the cache: B gets them as from a site mirror.)
  fs::copy(cache_ / "sourcecache", b_cache_ / "sourcecache", fs::copy_options::recursive);
  ASSERT_EQ(on(b_s3, {"cache", "keys", "import", key_file.string()}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr(a_fpr));
  ASSERT_EQ(build_on(b_s3, b_out, &seconds), 0) << out_.str() << err_.str();
  ev = test::events(out_.str());
  const auto* b_built = test::find_event(ev, "build", "done");
  ASSERT_NE(b_built, nullptr) << out_.str();
  EXPECT_EQ((*b_built)["data"]["built"], 0) << out_.str();
  EXPECT_EQ((*b_built)["data"]["cached"], 1) << out_.str();
  EXPECT_THAT(err_.str(), ::testing::Not(HasSubstr("skipping cache entry")));
  const fs::path b_artifact = artifact_in(b_out);
  ASSERT_TRUE(fs::is_regular_file(b_artifact));

  // 7. verify passes on B, for B's artifact and for A's; a rerun on B reuses it in under 1 s.
  EXPECT_EQ(on(b_s3, {"verify", b_artifact.string()}), 0) << out_.str() << err_.str();
  EXPECT_EQ(on(b_s3, {"verify", a_artifact.string()}), 0) << out_.str() << err_.str();
  ASSERT_EQ(build_on(b_s3, b_out, &seconds), 0) << out_.str() << err_.str();
  ev = test::events(out_.str());
  EXPECT_NE(test::find_event(ev, "artifact", "exists"), nullptr) << out_.str() << err_.str();
  EXPECT_LT(seconds, 1.0) << out_.str();
  // And A still verifies its own.
  EXPECT_EQ(on(a_local, {"verify", a_artifact.string()}), 0) << out_.str() << err_.str();
}

// `verify` never trusts a key because it sits in ~/.gnupg / $GNUPGHOME, even one gpg can check.
TEST_F(SharedTrustTest, VerifyRejectsAnArtifactSignedByAStrangerInGnupgHome) {
  const fs::path a_local = machine_config("a-local", cache_, false);
  const fs::path a_out = dir_ / "a-out";
  ASSERT_EQ(build_on(a_local, a_out), 0) << out_.str() << err_.str();
  const fs::path dir = a_out / "trixie" / "24.11.5" / "amd64";
  ASSERT_EQ(on(a_local, {"verify", artifact_in(a_out).string()}), 0) << out_.str() << err_.str();
  // The stranger re-signs SHA256SUMS with the key in GNUPGHOME.
  ASSERT_EQ(test::sh("gpg --batch --yes --quiet --homedir '" + stranger_.path() +
                     "' --armor --detach-sign --output '" + (dir / "SHA256SUMS.asc").string() +
                     "' '" + (dir / "SHA256SUMS").string() + "'"),
            0);
  EXPECT_EQ(on(a_local, {"verify", artifact_in(a_out).string()}),
            static_cast<int>(ExitCode::kVerification))
      << out_.str() << err_.str();
  EXPECT_THAT(out_.str() + err_.str(), HasSubstr(stranger_fpr_));
}

// signing.keyring without key_id and with no secret key: a configuration error, not unsigned.
TEST_F(SharedTrustTest, KeyringWithoutKeyIdAndNoKeyIsAConfigurationError) {
  test::GpgHome empty;
  const fs::path cfg = machine_config("keyring-only", cache_, false,
                                      "signing:\n  keyring: \"" + empty.path() + "\"\n");
  EXPECT_EQ(build_on(cfg, dir_ / "k-out"), static_cast<int>(ExitCode::kConfiguration))
      << out_.str() << err_.str();
  EXPECT_THAT(err_.str(), HasSubstr("signing.key_id"));
  EXPECT_FALSE(fs::exists(artifact_in(dir_ / "k-out")));
}

}  // namespace
}  // namespace sf
