#include "slurm_factory/core/gpg_verifier.hpp"

#include <gtest/gtest.h>

#include "../support/gpg_home.hpp"
#include "slurm_factory/core/gpg_signer.hpp"

namespace sf {
namespace {

TEST(GpgVerifier, RejectsUnknownAndUntrustedKeys) {
  test::GpgHome trusted_home;
  test::GpgHome rogue_home;
  auto good = GpgSigner::generate_key(trusted_home.path(), "Good <g@example.invalid>");
  auto rogue = GpgSigner::generate_key(rogue_home.path(), "Rogue <r@example.invalid>");
  GpgSigner rogue_signer({rogue_home.path(), rogue, {}, {}, {}, {}});
  auto sig = rogue_signer.sign_detached("payload");

  GpgVerifier keyring_only({trusted_home.path(), {}});
  auto r1 = keyring_only.verify_detached("payload", sig);
  ASSERT_FALSE(r1);
  EXPECT_NE(r1.error().message.find("not in"), std::string::npos) << r1.error().message;

  // Both keys in the keyring, only the good one trusted by fingerprint.
  auto exported = GpgVerifier({rogue_home.path(), {}}).export_keys(rogue);
  ASSERT_TRUE(exported);
  ASSERT_TRUE(keyring_only.import_keys(*exported));
  GpgVerifier pinned({trusted_home.path(), {good}});
  auto r2 = pinned.verify_detached("payload", sig);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("not among the trusted"), std::string::npos);
  // Without pinning, the keyring now trusts it.
  EXPECT_TRUE(keyring_only.verify_detached("payload", sig));
}

}  // namespace
}  // namespace sf
