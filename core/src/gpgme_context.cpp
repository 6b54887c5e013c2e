#include "slurm_factory/core/gpgme_context.hpp"

#include <clocale>
#include <mutex>

#include "slurm_factory/errors.hpp"

namespace sf::gpg {
namespace {
void init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    gpgme_check_version(nullptr);
    gpgme_set_locale(nullptr, LC_CTYPE, std::setlocale(LC_CTYPE, nullptr));
  });
}
}  // namespace

std::string error_text(gpgme_error_t err) {
  return std::string(gpgme_strsource(err)) + ": " + gpgme_strerror(err);
}

Context::Context(const std::string& gnupg_home) {
  init_once();
  if (auto err = gpgme_new(&ctx_); err) {
    throw SigningError("cannot start gpgme: " + error_text(err), {},
                       "install gnupg (gpg and gpg-agent) and check GNUPGHOME");
  }
  gpgme_set_protocol(ctx_, GPGME_PROTOCOL_OpenPGP);
  gpgme_set_armor(ctx_, 1);
  if (!gnupg_home.empty()) {
    if (auto err =
            gpgme_ctx_set_engine_info(ctx_, GPGME_PROTOCOL_OpenPGP, nullptr, gnupg_home.c_str());
        err) {
      gpgme_release(ctx_);
      throw SigningError("cannot use keyring " + gnupg_home + ": " + error_text(err),
                         {{"keyring", gnupg_home}}, "check that the directory exists and is yours");
    }
  }
}

Context::~Context() {
  if (ctx_) gpgme_release(ctx_);
}

Data::Data() { gpgme_data_new(&d_); }
Data::Data(const std::string& bytes) {
  gpgme_data_new_from_mem(&d_, bytes.data(), bytes.size(), 1);
}
Data::~Data() {
  if (d_) gpgme_data_release(d_);
}

std::string Data::str() const {
  std::string out;
  gpgme_data_seek(d_, 0, SEEK_SET);
  char buf[8192];
  ssize_t n;
  while ((n = gpgme_data_read(d_, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace sf::gpg
