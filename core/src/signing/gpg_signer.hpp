// Signs data with gpgme: detached, ASCII-armored OpenPGP signatures. The key is chosen by id from a
// keyring, or is the keyring's only secret key, or is imported from a file path or from the
// environment variable NAMED in the settings into a private temporary GNUPGHOME
// (`<temp_parent>/sf-gnupg-<pid>-XXXXXX`, 0700) that is removed again (and, after a kill -9, by
// remove_stale_temp_homes at the next start). A passphrase comes through loopback pinentry from a
// file or a named environment variable, never from argv. The keyring's gpg-agent is started with a
// scrubbed environment and stopped when the signer goes (gpg::AgentLease). No key material is ever
// logged or written anywhere else.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace sf {

struct GpgSignerOptions {
  std::string gnupg_home;  // keyring directory; "" = the user's default (or a temporary one)
  std::string key_id;      // fingerprint, long id or user id; "" = the keyring's only secret key
  std::filesystem::path private_key_file;  // armored or binary secret key to import
  std::string private_key_env;             // NAME of an environment variable holding the key
  std::filesystem::path passphrase_file;
  std::string passphrase_env;         // NAME of an environment variable holding the passphrase
  std::filesystem::path temp_parent;  // where an imported key's GNUPGHOME is made ("" = TMPDIR)
};

// Removes the temporary GNUPGHOMEs (sf-gnupg-<pid>-*) under `parent` whose process is gone (a
// command killed with -9), stopping their agents first. Returns how many were removed.
int remove_stale_temp_homes(const std::filesystem::path& parent);

class GpgSigner {
 public:
  // Throws SigningError (what, which key / file / variable, what to do).
  explicit GpgSigner(GpgSignerOptions options);
  ~GpgSigner();
  GpgSigner(const GpgSigner&) = delete;
  GpgSigner& operator=(const GpgSigner&) = delete;

  // A detached ASCII-armored signature of `data`. Throws SigningError.
  std::string sign_detached(const std::string& data) const;
  // `text` clear-signed (the text with its signature around it, as APT's InRelease). Throws
  // SigningError.
  std::string sign_clear(const std::string& text) const;
  // Primary key fingerprint of the signing key.
  const std::string& fingerprint() const;
  // The keyring it signs from ("" = the user's default), for tools that sign with gpg themselves
  // (rpmsign).
  const std::string& gnupg_home() const;
  // The signing key's public part, ASCII armored.
  std::string export_public_key() const;

  // Creates a new signing key (ed25519) in `gnupg_home` and returns its fingerprint. Used by tests
  // and `cache keys generate`. An empty passphrase creates an unprotected key.
  static std::string generate_key(const std::string& gnupg_home, const std::string& user_id,
                                  const std::string& passphrase = {});

 private:
  std::string sign(const std::string& data, bool clear) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf
