#include "slurm_factory/core/gpg_verifier.hpp"

#include <algorithm>
#include <cctype>

#include "slurm_factory/core/gpgme_context.hpp"
#include "slurm_factory/errors.hpp"

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

}  // namespace

struct GpgVerifier::Impl {
  GpgTrust trust;
};

GpgVerifier::GpgVerifier(GpgTrust trust) : impl_(std::make_unique<Impl>()) {
  impl_->trust = std::move(trust);
}
GpgVerifier::~GpgVerifier() = default;

const GpgTrust& GpgVerifier::trust() const { return impl_->trust; }

Expected<std::string> GpgVerifier::verify_detached(const std::string& data,
                                                   const std::string& signature) const {
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
    const std::string keyring =
        impl_->trust.gnupg_home.empty() ? "the default keyring" : impl_->trust.gnupg_home;
    std::string last_reason = "no signature";
    for (auto* s = result->signatures; s; s = s->next) {
      const std::string fpr = s->fpr ? s->fpr : "";
      const auto code = gpgme_err_code(s->status);
      if (code == GPG_ERR_NO_PUBKEY) {
        last_reason = "signed by key " + fpr + ", which is not in " + keyring +
                      " (untrusted); import it with `slurm-factory cache keys import` if you "
                      "trust it";
        continue;
      }
      if (code == GPG_ERR_BAD_SIGNATURE) {
        last_reason = "bad signature by key " + fpr + ": the signed file was modified after signing";
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
      if (code != GPG_ERR_NO_ERROR) {
        last_reason = "signature by key " + fpr + " does not verify: " + gpg::error_text(s->status);
        continue;
      }
      // A good signature from a key in the keyring. Find its primary fingerprint.
      std::string primary = fpr;
      std::vector<std::string> all{fpr};
      gpgme_key_t key = nullptr;
      if (!gpgme_get_key(ctx.get(), fpr.c_str(), &key, 0) && key) {
        if (key->fpr) primary = key->fpr;
        for (auto* sub = key->subkeys; sub; sub = sub->next)
          if (sub->fpr) all.emplace_back(sub->fpr);
        all.push_back(primary);
        gpgme_key_unref(key);
      }
      const auto& trusted = impl_->trust.trusted_fingerprints;
      if (trusted.empty()) return primary;
      for (const auto& t : trusted) {
        for (const auto& f : all) {
          if (matches(t, f)) return primary;
        }
      }
      last_reason = "signed by key " + primary +
                    ", which is not among the trusted fingerprints (signing.trusted_fingerprints)";
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
