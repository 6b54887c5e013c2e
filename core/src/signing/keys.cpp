#include "signing/keys.hpp"

#include <gpgme.h>

#include <algorithm>
#include <cctype>

#include "signing/gpgme_context.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {

std::string normalized_fingerprint(const std::string& text) {
  std::string f;
  for (char c : text) {
    if (c == ' ') continue;
    f += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (f.rfind("0X", 0) == 0) f = f.substr(2);
  const bool hex = !f.empty() && std::all_of(f.begin(), f.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (!hex || (f.size() != 40 && f.size() != 64)) {
    throw UsageError(
        "'" + text + "' is not a key fingerprint (40 or 64 hex digits)", {{"fingerprint", text}},
        "show fingerprints with: gpg --fingerprint (or cache keys import prints them)");
  }
  return f;
}

std::string export_public_keys(const std::string& keyring, const std::string& pattern, bool armor) {
  gpg::Context ctx(keyring);
  gpgme_set_armor(ctx.get(), armor ? 1 : 0);
  gpg::Data out;
  if (auto err = gpgme_op_export(ctx.get(), pattern.c_str(), 0, out.get()); err) {
    throw SigningError("cannot export keys: " + gpg::error_text(err), {{"keyring", keyring}},
                       "check signing.keyring");
  }
  std::string bytes = out.str();
  if (bytes.empty()) {
    throw SigningError(
        "no public key matches '" + pattern + "'", {{"keyring", keyring}},
        "list the keys with: gpg --homedir " + keyring + " --list-keys; give a KEYID of that list");
  }
  return bytes;
}

}  // namespace sf
