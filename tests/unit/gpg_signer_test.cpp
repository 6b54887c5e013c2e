#include "slurm_factory/core/gpg_signer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "../support/gpg_home.hpp"
#include "slurm_factory/core/gpg_verifier.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

TEST(GpgSigner, SignsWithKeyFromKeyringAndVerifierAccepts) {
  test::GpgHome home;
  auto fpr = GpgSigner::generate_key(home.path(), "Test Signer <signer@example.invalid>");
  ASSERT_EQ(fpr.size(), 40U);
  GpgSigner signer({home.path(), fpr, {}, {}, {}, {}});
  EXPECT_EQ(signer.fingerprint(), fpr);
  auto sig = signer.sign_detached("manifest bytes");
  EXPECT_NE(sig.find("-----BEGIN PGP SIGNATURE-----"), std::string::npos);

  GpgVerifier verifier({home.path(), {}});
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
  GpgVerifier verifier({origin.path(), {fpr}});
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
  EXPECT_THROW(GpgSigner({home.path(), "", {}, {}, {}, {}}), SigningError);
  GpgSignerOptions o;
  o.private_key_env = "SF_TEST_UNSET_VARIABLE";
  try {
    GpgSigner s(o);
    FAIL();
  } catch (const SigningError& e) {
    EXPECT_EQ(e.context_value("variable"), "SF_TEST_UNSET_VARIABLE");
  }
}

}  // namespace
}  // namespace sf
