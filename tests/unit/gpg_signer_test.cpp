#include "signing/gpg_signer.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include "../support/gpg_home.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

TEST(GpgSigner, SignsWithKeyFromKeyringAndVerifierAccepts) {
  test::GpgHome home;
  auto fpr = GpgSigner::generate_key(home.path(), "Test Signer <signer@example.invalid>");
  ASSERT_EQ(fpr.size(), 40U);
  GpgSigner signer({home.path(), fpr, {}, {}, {}, {}, {}});
  EXPECT_EQ(signer.fingerprint(), fpr);
  auto sig = signer.sign_detached("manifest bytes");
  EXPECT_NE(sig.find("-----BEGIN PGP SIGNATURE-----"), std::string::npos);

  GpgVerifier verifier({home.path(), {}, false});
  auto ok = verifier.verify_detached("manifest bytes", sig);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, fpr);
  auto bad = verifier.verify_detached("manifest bytes!", sig);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad signature"), std::string::npos) << bad.error().message;
}

TEST(GpgSigner, ImportsProtectedKeyFromEnvWithPassphraseFromFile) {
  test::GpgHome origin;
  auto fpr = GpgSigner::generate_key(origin.path(), "Protected <p@example.invalid>", "s3cret-pass");
  // Export the secret key with the passphrase (loopback), as a site would.
  test::TempDir dir;
  test::write_file(dir / "pass", "s3cret-pass\n");
  std::string cmd = "gpg --batch --quiet --homedir '" + origin.path() +
                    "' --pinentry-mode loopback --passphrase-file '" + (dir / "pass").string() +
                    "' --armor --export-secret-keys " + fpr + " > '" + (dir / "key.asc").string() +
                    "' 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ::setenv("SF_TEST_SIGNING_KEY", test::read_file(dir / "key.asc").c_str(), 1);

  GpgSignerOptions o;
  o.private_key_env = "SF_TEST_SIGNING_KEY";
  o.passphrase_file = dir / "pass";
  std::string sig;
  {
    GpgSigner signer(o);
    EXPECT_EQ(signer.fingerprint(), fpr);
    sig = signer.sign_detached("data");
    EXPECT_NE(signer.export_public_key().find("BEGIN PGP PUBLIC KEY BLOCK"), std::string::npos);
  }
  ::unsetenv("SF_TEST_SIGNING_KEY");
  GpgVerifier verifier({origin.path(), {fpr}, false});
  auto ok = verifier.verify_detached("data", sig);
  EXPECT_TRUE(ok) << ok.error().message;
}

TEST(GpgSigner, WrongPassphraseIsASigningErrorWithRemedy) {
  test::GpgHome home;
  auto fpr = GpgSigner::generate_key(home.path(), "P <p@example.invalid>", "right");
  ::setenv("SF_TEST_PASS", "wrong", 1);
  GpgSignerOptions o;
  o.gnupg_home = home.path();
  o.key_id = fpr;
  o.passphrase_env = "SF_TEST_PASS";
  GpgSigner signer(o);
  try {
    (void)signer.sign_detached("x");
    FAIL() << "signing with a wrong passphrase succeeded";
  } catch (const SigningError& e) {
    EXPECT_EQ(std::string(e.what()).find("wrong"), std::string::npos);
    EXPECT_NE(e.remediation().find("passphrase"), std::string::npos) << e.render();
  }
  ::unsetenv("SF_TEST_PASS");
}

TEST(GpgSigner, MissingKeyAndMissingEnvAreExplained) {
  test::GpgHome home;
  EXPECT_THROW(GpgSigner({home.path(), "", {}, {}, {}, {}, {}}), SigningError);
  GpgSignerOptions o;
  o.private_key_env = "SF_TEST_UNSET_VARIABLE";
  try {
    GpgSigner s(o);
    FAIL();
  } catch (const SigningError& e) {
    EXPECT_EQ(e.context_value("variable"), "SF_TEST_UNSET_VARIABLE");
  }
}

// The pids of the gpg-agents running for `home` (argv names it).
std::vector<pid_t> agents_of(const std::string& home) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmdline = test::read_file(e.path() / "cmdline");
    if (cmdline.find("gpg-agent") == std::string::npos) continue;
    if (cmdline.find(home) == std::string::npos) {
      // Launched with GNUPGHOME in its environment instead of --homedir.
      if (test::read_file(e.path() / "environ").find("GNUPGHOME=" + home) == std::string::npos)
        continue;
    }
    out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

bool wait_until_gone(const std::string& home) {
  for (int i = 0; i < 50; ++i) {
    if (agents_of(home).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Item 18: the agent signing starts holds no credential and no passphrase variable, the imported
// key's temporary GNUPGHOME is made under the given parent (cache_dir) and goes with its agent.
TEST(GpgSigner, AgentEnvironmentIsScrubbedAndTemporaryKeyringGoesUnderCacheDir) {
  test::GpgHome origin;
  const auto fpr = GpgSigner::generate_key(origin.path(), "Env <e@example.invalid>", "pass-phr4se");
  test::TempDir dir("sf-agentenv");
  test::write_file(dir / "pass", "pass-phr4se\n");
  ASSERT_EQ(std::system(("gpg --batch --quiet --homedir '" + origin.path() +
                         "' --pinentry-mode loopback --passphrase-file '" +
                         (dir / "pass").string() + "' --armor --export-secret-keys " + fpr +
                         " > '" + (dir / "key.asc").string() + "' 2>/dev/null")
                            .c_str()),
            0);
  ::setenv("AWS_SECRET_ACCESS_KEY", "aws-s3cr3t-value", 1);
  ::setenv("SF_TEST_AGENT_PASS", "pass-phr4se", 1);
  const std::filesystem::path cache_dir = dir / "cache";
  std::string temp_home;
  {
    GpgSignerOptions o;
    o.private_key_file = dir / "key.asc";
    o.passphrase_env = "SF_TEST_AGENT_PASS";
    o.temp_parent = cache_dir;
    GpgSigner signer(o);
    EXPECT_FALSE(signer.sign_detached("data").empty());
    for (const auto& e : std::filesystem::directory_iterator(cache_dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("sf-gnupg-" + std::to_string(::getpid()) + "-", 0) == 0)
        temp_home = e.path().string();
    }
    ASSERT_FALSE(temp_home.empty()) << "no sf-gnupg-<pid>-* under " << cache_dir;
    EXPECT_EQ(std::filesystem::status(temp_home).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_all);
    const auto agents = agents_of(temp_home);
    ASSERT_FALSE(agents.empty()) << "no gpg-agent for " << temp_home;
    for (pid_t pid : agents) {
      const std::string env =
          test::read_file(std::filesystem::path("/proc") / std::to_string(pid) / "environ");
      EXPECT_EQ(env.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
      EXPECT_EQ(env.find("aws-s3cr3t-value"), std::string::npos);
      EXPECT_EQ(env.find("SF_TEST_AGENT_PASS"), std::string::npos);
      EXPECT_EQ(env.find("pass-phr4se"), std::string::npos);
    }
  }
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("SF_TEST_AGENT_PASS");
  EXPECT_FALSE(std::filesystem::exists(temp_home));
  EXPECT_TRUE(wait_until_gone(temp_home));
}

// Item 18: the agent of a keyring the signer used is stopped when the signer goes.
TEST(GpgSigner, TheKeyringsAgentIsStoppedWhenTheSignerGoes) {
  test::GpgHome home;
  const auto fpr = GpgSigner::generate_key(home.path(), "Stop <s@example.invalid>");
  ::setenv("AWS_SECRET_ACCESS_KEY", "aws-s3cr3t-value", 1);
  {
    GpgSigner signer({home.path(), fpr, {}, {}, {}, {}, {}});
    EXPECT_FALSE(signer.sign_detached("x").empty());
    const auto agents = agents_of(home.path());
    ASSERT_FALSE(agents.empty());
    for (pid_t pid : agents) {
      EXPECT_EQ(test::read_file(std::filesystem::path("/proc") / std::to_string(pid) / "environ")
                    .find("aws-s3cr3t-value"),
                std::string::npos);
    }
  }
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  EXPECT_TRUE(wait_until_gone(home.path()));
}

// Item 18: a kill -9 leaves sf-gnupg-<pid>-*; the next start removes those whose process is gone.
TEST(GpgSigner, StaleTemporaryKeyringsOfDeadProcessesAreRemoved) {
  test::TempDir dir("sf-stale");
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);  // now a pid nobody has
  const auto dead = dir / ("sf-gnupg-" + std::to_string(child) + "-AbC123");
  const auto alive = dir / ("sf-gnupg-" + std::to_string(::getpid()) + "-XyZ789");
  test::write_file(dead / "private-keys-v1.d" / "k.key", "secret");
  test::write_file(alive / "private-keys-v1.d" / "k.key", "secret");
  test::write_file(dir / "sf-gnupg-notapid-1" / "x", "x");
  EXPECT_EQ(remove_stale_temp_homes(dir.path()), 1);
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::exists(alive));
  EXPECT_TRUE(std::filesystem::exists(dir / "sf-gnupg-notapid-1"));
}

// Item 9: a keyring without key_id signs with its only secret key; several is an error naming them.
TEST(GpgSigner, WithoutKeyIdTheKeyringsOnlyKeySignsAndSeveralAreRefused) {
  test::GpgHome home;
  const auto first = GpgSigner::generate_key(home.path(), "One <1@example.invalid>");
  {
    GpgSigner only({home.path(), "", {}, {}, {}, {}, {}});
    EXPECT_EQ(only.fingerprint(), first);
  }
  const auto second = GpgSigner::generate_key(home.path(), "Two <2@example.invalid>");
  try {
    GpgSigner s({home.path(), "", {}, {}, {}, {}, {}});
    FAIL() << "a keyring with two keys and no key_id chose one";
  } catch (const SigningError& e) {
    EXPECT_NE(e.context_value("keys").find(first), std::string::npos) << e.render();
    EXPECT_NE(e.context_value("keys").find(second), std::string::npos) << e.render();
    EXPECT_NE(e.remediation().find("signing.key_id"), std::string::npos) << e.render();
  }
}

}  // namespace
}  // namespace sf
