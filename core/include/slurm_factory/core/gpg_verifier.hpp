// Verifies detached OpenPGP signatures with gpgme against a trust anchor: the configured keyring
// (every key in it is trusted) or, when given, only the listed fingerprints (primary key or
// subkey). Also imports and exports public keys for `cache keys`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf {

struct GpgTrust {
  std::string gnupg_home;  // the keyring holding trusted public keys; "" = the user's default
  std::vector<std::string> trusted_fingerprints;  // empty: any key in the keyring
};

class GpgVerifier {
 public:
  explicit GpgVerifier(GpgTrust trust);
  ~GpgVerifier();
  GpgVerifier(const GpgVerifier&) = delete;
  GpgVerifier& operator=(const GpgVerifier&) = delete;

  // The signer's primary fingerprint when `signature` is a good signature of `data` by a trusted
  // key; else a Failure saying why (bad signature, unknown key, untrusted key, expired, revoked).
  Expected<std::string> verify_detached(const std::string& data,
                                        const std::string& signature) const;

  // Imports armored public keys into the keyring; returns the fingerprints imported.
  Expected<std::vector<std::string>> import_keys(const std::string& armored) const;
  // Armored public keys (all, or those matching `pattern`).
  Expected<std::string> export_keys(const std::string& pattern = {}) const;

  const GpgTrust& trust() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf
