// Signing keys as an admin handles them: fingerprints as typed, and the public keys a keyring
// exports for other machines (`cache keys export`).
#pragma once

#include <string>

namespace sf {

// `text` as a fingerprint: spaces dropped, upper case, "0x" stripped; 40 or 64 hex digits, else
// UsageError.
std::string normalized_fingerprint(const std::string& text);

// The public keys of `keyring` (a GnuPG home) matching `pattern` (a fingerprint, key id or user
// id), binary OpenPGP or ASCII armored. Throws SigningError when none matches or gpgme fails.
std::string export_public_keys(const std::string& keyring, const std::string& pattern, bool armor);

}  // namespace sf
