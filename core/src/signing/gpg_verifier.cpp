#include "signing/gpg_verifier.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>

#include "signing/gpgme_context.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

std::string upper(std::string s) {
  s.erase(std::remove_if(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); }),
          s.end());
  if (s.rfind("0x", 0) == 0 || s.rfind("0X", 0) == 0) s.erase(0, 2);
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

// A trusted entry matches a fingerprint when equal, or when it is a long/short key id suffix.
bool matches(const std::string& trusted, const std::string& fpr) {
  auto t = upper(trusted);
  auto f = upper(fpr);
  if (t.empty() || f.empty()) return false;
  return t == f || (t.size() >= 16 && f.size() >= t.size() &&
                    f.compare(f.size() - t.size(), t.size(), t) == 0);
}

bool trusted_by(const std::vector<std::string>& trusted, const std::vector<std::string>& fprs) {
  for (const auto& t : trusted)
    for (const auto& f : fprs)
      if (matches(t, f)) return true;
  return false;
}

// The secret keys of each keyring, listed once per process (a gpg run each time is what made a
// warm rerun slow); forgotten when a key is made or imported there.
std::mutex& secret_cache_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::vector<std::string>>& secret_cache() {
  static std::map<std::string, std::vector<std::string>> m;
  return m;
}

}  // namespace

void forget_secret_keys(const std::string& gnupg_home) {
  std::lock_guard<std::mutex> lock(secret_cache_mutex());
  secret_cache().erase(gnupg_home);
}

fs::path trusted_keys_file(const std::string& gnupg_home) {
  return fs::path(gnupg_home) / "slurm-factory-trusted";
}

std::vector<std::string> read_trusted_keys(const std::string& gnupg_home) {
  std::vector<std::string> out;
  if (gnupg_home.empty()) return out;
  std::ifstream in(trusted_keys_file(gnupg_home));
  std::string line;
  while (std::getline(in, line)) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    auto f = upper(line);
    if (!f.empty()) out.push_back(f);
  }
  return out;
}

void record_trusted_keys(const std::string& gnupg_home,
                         const std::vector<std::string>& fingerprints) {
  if (gnupg_home.empty()) {
    throw SigningError("no keyring to record trusted keys in", {},
                       "set signing.keyring, or leave it empty for <cache_dir>/gnupg");
  }
  auto all = read_trusted_keys(gnupg_home);
  bool changed = false;
  for (const auto& f : fingerprints) {
    auto u = upper(f);
    if (u.empty() || std::find(all.begin(), all.end(), u) != all.end()) continue;
    all.push_back(u);
    changed = true;
  }
  if (!changed) return;
  const fs::path file = trusted_keys_file(gnupg_home);
  std::string tmpl = (fs::path(gnupg_home) / ".slurm-factory-trusted.XXXXXX").string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) {
    throw SigningError("cannot write the trusted keys of the keyring", {{"file", file.string()}},
                       "check that the keyring directory is yours and writable");
  }
  std::string text =
      "# fingerprints this site trusts (slurm-factory cache keys import / trust), one a line\n";
  for (const auto& f : all) text += f + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmpl.c_str(), file.c_str()) != 0) {
    ::unlink(tmpl.c_str());
    throw SigningError("cannot write the trusted keys of the keyring", {{"file", file.string()}},
                       "check that the keyring directory is yours and writable");
  }
}

struct GpgVerifier::Impl {
  GpgTrust trust;
  mutable std::mutex mutex;
  mutable std::unique_ptr<gpg::AgentLease> agent;
};

GpgVerifier::GpgVerifier(GpgTrust trust) : impl_(std::make_unique<Impl>()) {
  impl_->trust = std::move(trust);
}
GpgVerifier::~GpgVerifier() = default;

const GpgTrust& GpgVerifier::trust() const { return impl_->trust; }

Expected<std::vector<std::string>> GpgVerifier::secret_keys() const {
  const std::string& home = impl_->trust.gnupg_home;
  if (home.empty()) return std::vector<std::string>{};
  {
    std::lock_guard<std::mutex> lock(secret_cache_mutex());
    auto it = secret_cache().find(home);
    if (it != secret_cache().end()) return it->second;
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  try {
    // Listing secret keys talks to gpg-agent: start it ourselves, with a scrubbed environment.
    if (!impl_->agent) impl_->agent = std::make_unique<gpg::AgentLease>(home);
    gpg::Context ctx(home);
    std::vector<std::string> out;
    if (auto err = gpgme_op_keylist_start(ctx.get(), nullptr, 1); err)
      return Failure::error("cannot list the secret keys of " + home + ": " + gpg::error_text(err));
    gpgme_key_t key = nullptr;
    while (!gpgme_op_keylist_next(ctx.get(), &key)) {
      if (key->fpr && !key->revoked && !key->expired && !key->disabled) out.emplace_back(key->fpr);
      gpgme_key_unref(key);
    }
    gpgme_op_keylist_end(ctx.get());
    std::lock_guard<std::mutex> cache_lock(secret_cache_mutex());
    secret_cache()[home] = out;
    return out;
  } catch (const SlurmFactoryError& e) {
    return Failure::error(e.what());
  }
}

std::vector<std::string> GpgVerifier::trusted() const {
  std::vector<std::string> out = impl_->trust.trusted_fingerprints;
  if (impl_->trust.only_listed) return out;
  for (auto& f : read_trusted_keys(impl_->trust.gnupg_home)) out.push_back(std::move(f));
  if (auto own = secret_keys())
    for (auto& f : *own) out.push_back(std::move(f));
  return out;
}

Expected<std::string> GpgVerifier::verify_detached(const std::string& data,
                                                   const std::string& signature) const {
  if (impl_->trust.gnupg_home.empty()) {
    return Failure::unauthorized(
        "no keyring to check the signature against (signing.keyring, default <cache_dir>/gnupg)");
  }
  try {
    gpg::Context ctx(impl_->trust.gnupg_home);
    gpg::Data sig(signature);
    gpg::Data signed_text(data);
    if (auto err = gpgme_op_verify(ctx.get(), sig.get(), signed_text.get(), nullptr); err) {
      return Failure::error("the signature cannot be read: " + gpg::error_text(err));
    }
    auto* result = gpgme_op_verify_result(ctx.get());
    if (!result || !result->signatures)
      return Failure::error("the signature file holds no signature");
    const std::string& keyring = impl_->trust.gnupg_home;
    std::string last_reason = "no signature";
    for (auto* s = result->signatures; s; s = s->next) {
      const std::string fpr = s->fpr ? s->fpr : "";
      const auto code = gpgme_err_code(s->status);
      if (code == GPG_ERR_NO_PUBKEY) {
        last_reason = "signed by key " + fpr + ", which is not in " + keyring +
                      " (untrusted); import it with `slurm-factory cache keys import FILE` if you "
                      "trust it";
        continue;
      }
      if (code == GPG_ERR_BAD_SIGNATURE) {
        last_reason =
            "bad signature by key " + fpr + ": the signed file was modified after signing";
        continue;
      }
      if (code == GPG_ERR_SIG_EXPIRED || code == GPG_ERR_KEY_EXPIRED) {
        last_reason = "signature by key " + fpr + " has expired";
        continue;
      }
      if (code == GPG_ERR_CERT_REVOKED || (s->summary & GPGME_SIGSUM_KEY_REVOKED)) {
        last_reason = "key " + fpr + " is revoked";
        continue;
      }
      if (code != GPG_ERR_NO_ERROR || (s->summary & GPGME_SIGSUM_RED)) {
        last_reason = "signature by key " + fpr + " does not verify: " + gpg::error_text(s->status);
        continue;
      }
      // A good signature by a key of the keyring. Trusted only by fingerprint (primary or subkey).
      const auto trusted_now = trusted();
      // The signing key itself trusted (gpg already said it is neither expired nor revoked).
      if (trusted_by(trusted_now, {fpr})) return fpr;
      std::string primary = fpr;
      std::vector<std::string> all{fpr};
      gpgme_key_t key = nullptr;
      if (!gpgme_get_key(ctx.get(), fpr.c_str(), &key, 0) && key) {
        if (key->fpr) primary = key->fpr;
        for (auto* sub = key->subkeys; sub; sub = sub->next)
          if (sub->fpr) all.emplace_back(sub->fpr);
        all.push_back(primary);
        const bool dead = key->revoked || key->expired || key->disabled;
        gpgme_key_unref(key);
        if (dead) {
          last_reason = "key " + primary + " is revoked, expired or disabled";
          continue;
        }
      }
      if (trusted_by(trusted_now, all)) return primary;
      last_reason = "signed by key " + primary + ", which is in " + keyring +
                    " but not trusted; trust it with `slurm-factory cache keys trust " + primary +
                    "` or signing.trusted_fingerprints";
    }
    return Failure::unauthorized(last_reason);
  } catch (const SlurmFactoryError& e) {
    return Failure::error(e.what());
  }
}

Expected<std::vector<std::string>> GpgVerifier::import_keys(const std::string& armored) const {
  try {
    gpg::Context ctx(impl_->trust.gnupg_home);
    gpg::Data data(armored);
    forget_secret_keys(impl_->trust.gnupg_home);
    if (auto err = gpgme_op_import(ctx.get(), data.get()); err)
      return Failure::error("cannot import keys: " + gpg::error_text(err));
    std::vector<std::string> out;
    auto* res = gpgme_op_import_result(ctx.get());
    for (auto* i = res ? res->imports : nullptr; i; i = i->next) {
      if (i->fpr && !i->result) out.emplace_back(i->fpr);
    }
    if (out.empty()) return Failure::error("no OpenPGP public key found in the input");
    return out;
  } catch (const SlurmFactoryError& e) {
    return Failure::error(e.what());
  }
}

Expected<std::string> GpgVerifier::export_keys(const std::string& pattern) const {
  try {
    gpg::Context ctx(impl_->trust.gnupg_home);
    gpg::Data out;
    if (auto err =
            gpgme_op_export(ctx.get(), pattern.empty() ? nullptr : pattern.c_str(), 0, out.get());
        err)
      return Failure::error("cannot export keys: " + gpg::error_text(err));
    auto s = out.str();
    if (s.empty()) return Failure::not_found("no public key matches '" + pattern + "'");
    return s;
  } catch (const SlurmFactoryError& e) {
    return Failure::error(e.what());
  }
}

}  // namespace sf
