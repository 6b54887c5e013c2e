// Verifies detached OpenPGP signatures with gpgme against the trust anchor: ONE keyring (the site's
// `signing.keyring`, else `<cache_dir>/gnupg`; never the user's ~/.gnupg) and an explicit set of
// trusted fingerprints. A key merely present in the keyring is not trusted; trusted are:
//   - the keyring's own secret keys (the signing key: the automatic one or signing.key_id),
//   - the fingerprints listed in GpgTrust (signing.trusted_fingerprints),
//   - the fingerprints recorded in the keyring's `slurm-factory-trusted` file, written by
//     `cache keys import` / `cache keys trust` (a site's explicit decision).
// A signature is accepted only when gpg calls it good (not bad, key not expired or revoked) AND its
// key (primary or subkey) is in that set; gpg's web of trust (validity) plays no part.
// Also imports and exports public keys for `cache keys`.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf {

struct GpgTrust {
  std::string gnupg_home;  // the keyring (required: an empty one verifies nothing)
  std::vector<std::string> trusted_fingerprints;  // trusted besides the keyring's own (see above)
  bool only_listed = false;  // true: trust exactly trusted_fingerprints (verify --trusted-key)
};

// The file beside the keyring that records fingerprints the site trusts (one per line).
std::filesystem::path trusted_keys_file(const std::string& gnupg_home);
// The fingerprints recorded there (upper case); empty when there is no file.
std::vector<std::string> read_trusted_keys(const std::string& gnupg_home);
// Adds `fingerprints` to that file (atomically; those already there are kept once). Throws
// SigningError.
void record_trusted_keys(const std::string& gnupg_home,
                         const std::vector<std::string>& fingerprints);

// Forgets this process's list of the keyring's secret keys (after a key was made or imported).
void forget_secret_keys(const std::string& gnupg_home);

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

  // Imports armored public keys into the keyring; returns the fingerprints imported (not trusted
  // by that alone: record_trusted_keys).
  Expected<std::vector<std::string>> import_keys(const std::string& armored) const;
  // Armored public keys (all, or those matching `pattern`).
  Expected<std::string> export_keys(const std::string& pattern = {}) const;
  // The fingerprints of the keyring's usable secret keys.
  Expected<std::vector<std::string>> secret_keys() const;
  // Every fingerprint (or key id) trusted now, as described above.
  std::vector<std::string> trusted() const;

  const GpgTrust& trust() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf
