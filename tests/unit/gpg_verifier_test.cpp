#include "signing/gpg_verifier.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "../support/gpg_home.hpp"
#include "signing/gpg_signer.hpp"

namespace sf {
namespace {

struct Rogue {
  test::GpgHome home;
  std::string fpr = GpgSigner::generate_key(home.path(), "Rogue <r@example.invalid>");
  std::string sign(const std::string& data) const {
    GpgSigner s({home.path(), fpr, {}, {}, {}, {}, {}});
    return s.sign_detached(data);
  }
  std::string public_key() const { return *GpgVerifier({home.path(), {}, false}).export_keys(fpr); }
};

// Item 9: a key merely present in the keyring is not trusted; only the keyring's own secret keys,
// the listed fingerprints and the keys recorded by `cache keys import` / `trust` are.
TEST(GpgVerifier, AKeyMerelyPresentInTheKeyringIsNotTrusted) {
  test::GpgHome trusted_home;
  const auto good = GpgSigner::generate_key(trusted_home.path(), "Good <g@example.invalid>");
  Rogue rogue;
  const auto sig = rogue.sign("payload");

  GpgVerifier keyring({trusted_home.path(), {}, false});
  auto r1 = keyring.verify_detached("payload", sig);
  ASSERT_FALSE(r1);
  EXPECT_NE(r1.error().message.find("not in"), std::string::npos) << r1.error().message;

  // Imported (present, good signature, gpg calls it "not certified"): still not trusted.
  ASSERT_TRUE(keyring.import_keys(rogue.public_key()));
  auto r2 = keyring.verify_detached("payload", sig);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("not trusted"), std::string::npos) << r2.error().message;
  EXPECT_NE(r2.error().message.find(rogue.fpr), std::string::npos) << r2.error().message;

  // The keyring's own key is trusted.
  GpgSigner own({trusted_home.path(), good, {}, {}, {}, {}, {}});
  auto r3 = keyring.verify_detached("payload", own.sign_detached("payload"));
  ASSERT_TRUE(r3) << r3.error().message;
  EXPECT_EQ(*r3, good);

  // Recorded as trusted (what `cache keys import` does): now it verifies, in a new verifier too.
  record_trusted_keys(trusted_home.path(), {rogue.fpr});
  EXPECT_EQ(read_trusted_keys(trusted_home.path()), std::vector<std::string>{rogue.fpr});
  record_trusted_keys(trusted_home.path(), {rogue.fpr});  // once only
  EXPECT_EQ(read_trusted_keys(trusted_home.path()).size(), 1U);
  auto r4 = GpgVerifier({trusted_home.path(), {}, false}).verify_detached("payload", sig);
  ASSERT_TRUE(r4) << r4.error().message;
  EXPECT_EQ(*r4, rogue.fpr);

  // Listed only (verify --trusted-key): exactly those, not the keyring's own.
  GpgVerifier pinned({trusted_home.path(), {rogue.fpr}, true});
  EXPECT_TRUE(pinned.verify_detached("payload", sig));
  auto r5 = pinned.verify_detached("payload", own.sign_detached("payload"));
  ASSERT_FALSE(r5);
  EXPECT_NE(r5.error().message.find("not trusted"), std::string::npos) << r5.error().message;
}

// A trusted key's signature over other bytes is bad, whatever the trust.
TEST(GpgVerifier, ABadSignatureOfATrustedKeyIsRejected) {
  test::GpgHome home;
  const auto fpr = GpgSigner::generate_key(home.path(), "Good <g@example.invalid>");
  GpgSigner s({home.path(), fpr, {}, {}, {}, {}, {}});
  const auto sig = s.sign_detached("manifest");
  GpgVerifier v({home.path(), {fpr}, false});
  auto r = v.verify_detached("manifest, edited", sig);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("bad signature"), std::string::npos) << r.error().message;
}

// ~/.gnupg / $GNUPGHOME is never the trust anchor: an empty keyring path verifies nothing, even
// when GNUPGHOME holds the signer's secret key.
TEST(GpgVerifier, NoKeyringVerifiesNothingEvenWithTheKeyInGnupgHome) {
  Rogue rogue;
  const auto sig = rogue.sign("payload");
  const char* old = std::getenv("GNUPGHOME");
  const std::string saved = old ? old : "";
  ::setenv("GNUPGHOME", rogue.home.path().c_str(), 1);
  auto r = GpgVerifier({"", {}, false}).verify_detached("payload", sig);
  auto r2 = GpgVerifier({"", {rogue.fpr}, false}).verify_detached("payload", sig);
  if (old) {
    ::setenv("GNUPGHOME", saved.c_str(), 1);
  } else {
    ::unsetenv("GNUPGHOME");
  }
  EXPECT_FALSE(r);
  EXPECT_FALSE(r2);
}

}  // namespace
}  // namespace sf
