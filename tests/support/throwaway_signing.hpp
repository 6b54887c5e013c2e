// A throwaway signing key for tests that sign and verify for real (gpgme, ed25519).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "signing/gpg_signer.hpp"
#include "signing/gpg_verifier.hpp"

namespace sf::test {

// A folder `<tmp>/<prefix>-<pid>-<test name>` (made afresh, removed with the object) holding a
// throwaway ed25519 key in gnupg/, with a signer and a verifier that trusts only it.
class ThrowawaySigning {
 public:
  ThrowawaySigning(const std::string& prefix, const std::string& uid) {
    root = std::filesystem::temp_directory_path() /
           (prefix + "-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root / "gnupg");
    std::filesystem::permissions(root / "gnupg", std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace);
    fpr = GpgSigner::generate_key((root / "gnupg").string(), uid);
    signer = std::make_unique<GpgSigner>(
        GpgSignerOptions{(root / "gnupg").string(), fpr, {}, {}, {}, {}});
    verifier = std::make_unique<GpgVerifier>(GpgTrust{(root / "gnupg").string(), {fpr}});
  }
  ~ThrowawaySigning() {
    signer.reset();
    verifier.reset();
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  ThrowawaySigning(const ThrowawaySigning&) = delete;
  ThrowawaySigning& operator=(const ThrowawaySigning&) = delete;

  std::filesystem::path root;
  std::string fpr;
  std::unique_ptr<GpgSigner> signer;
  std::unique_ptr<GpgVerifier> verifier;
};

}  // namespace sf::test
