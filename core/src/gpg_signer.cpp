#include "slurm_factory/core/gpg_signer.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "slurm_factory/core/gpgme_context.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

std::string read_secret_file(const fs::path& p, const char* what) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    throw SigningError(std::string("cannot read the ") + what + " file", {{"file", p.string()}},
                       "check the path in signing settings and the file's permissions");
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_secret_env(const std::string& name, const char* what) {
  const char* v = std::getenv(name.c_str());
  if (!v || !*v) {
    throw SigningError(
        std::string("the environment variable named for the ") + what + " is not set",
        {{"variable", name}}, "export " + name + " before running, or unset the " + "setting");
  }
  return v;
}

gpgme_error_t passphrase_cb(void* hook, const char*, const char*, int prev_was_bad, int fd) {
  const auto* pass = static_cast<const std::string*>(hook);
  if (prev_was_bad || pass->empty()) return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
  std::string line = *pass + "\n";
  size_t off = 0;
  while (off < line.size()) {
    auto n = gpgme_io_writen(fd, line.data() + off, line.size() - off);
    if (n != 0) return gpgme_error(GPG_ERR_CANCELED);
    off = line.size();
  }
  return 0;
}

void kill_agent(const std::string& home) {
  try {
    auto gpgconf = boost::process::search_path("gpgconf");
    if (gpgconf.empty()) return;
    boost::process::system(gpgconf, "--homedir", home, "--kill", "all",
                           boost::process::std_out > boost::process::null,
                           boost::process::std_err > boost::process::null);
  } catch (const std::exception&) {
  }
}

}  // namespace

struct GpgSigner::Impl {
  GpgSignerOptions options;
  std::string home;       // effective GNUPGHOME
  std::string temp_home;  // ours to remove
  std::string passphrase;
  std::string fingerprint;
  gpgme_key_t key = nullptr;

  ~Impl() {
    if (key) gpgme_key_unref(key);
    if (!temp_home.empty()) {
      kill_agent(temp_home);
      std::error_code ec;
      fs::remove_all(temp_home, ec);
    }
    // Best effort: do not leave the passphrase in freed memory.
    std::fill(passphrase.begin(), passphrase.end(), '\0');
  }
};

GpgSigner::GpgSigner(GpgSignerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  const auto& o = impl_->options;
  impl_->home = o.gnupg_home;
  if (!o.passphrase_file.empty()) {
    impl_->passphrase = read_secret_file(o.passphrase_file, "passphrase");
    while (!impl_->passphrase.empty() &&
           (impl_->passphrase.back() == '\n' || impl_->passphrase.back() == '\r'))
      impl_->passphrase.pop_back();
  } else if (!o.passphrase_env.empty()) {
    impl_->passphrase = read_secret_env(o.passphrase_env, "passphrase");
  }

  std::string key_material;
  std::string key_origin;
  if (!o.private_key_file.empty()) {
    key_material = read_secret_file(o.private_key_file, "private key");
    key_origin = "file " + o.private_key_file.string();
  } else if (!o.private_key_env.empty()) {
    key_material = read_secret_env(o.private_key_env, "private key");
    key_origin = "environment variable " + o.private_key_env;
  }
  if (!key_material.empty() && impl_->home.empty()) {
    // An imported key lives in a private keyring of ours, never in the user's.
    std::string tmpl = (fs::temp_directory_path() / "sf-gnupg-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      throw SigningError("cannot create a temporary keyring", {{"directory", tmpl}},
                         "check that TMPDIR is writable");
    }
    impl_->home = impl_->temp_home = tmpl;
  }

  gpg::Context ctx(impl_->home);
  if (!key_material.empty()) {
    gpgme_set_pinentry_mode(ctx.get(), GPGME_PINENTRY_MODE_LOOPBACK);
    gpgme_set_passphrase_cb(ctx.get(), passphrase_cb, &impl_->passphrase);
    gpg::Data data(key_material);
    std::fill(key_material.begin(), key_material.end(), '\0');
    if (auto err = gpgme_op_import(ctx.get(), data.get()); err) {
      throw SigningError("cannot import the private signing key: " + gpg::error_text(err),
                         {{"key from", key_origin}},
                         "export it with `gpg --export-secret-keys --armor KEYID`");
    }
    auto* res = gpgme_op_import_result(ctx.get());
    if (!res || res->secret_imported + res->secret_unchanged == 0) {
      throw SigningError("no private key found in the signing key material",
                         {{"key from", key_origin}},
                         "export the secret key (gpg --export-secret-keys --armor), not the "
                         "public one");
    }
  }

  // Find the secret key.
  const char* pattern = o.key_id.empty() ? nullptr : o.key_id.c_str();
  if (auto err = gpgme_op_keylist_start(ctx.get(), pattern, 1); err) {
    throw SigningError("cannot list secret keys: " + gpg::error_text(err),
                       {{"keyring", impl_->home.empty() ? "default" : impl_->home}},
                       "check GNUPGHOME / signing.keyring");
  }
  gpgme_key_t key = nullptr;
  while (!gpgme_op_keylist_next(ctx.get(), &key)) {
    if (key->can_sign && !key->revoked && !key->expired && !key->disabled) break;
    gpgme_key_unref(key);
    key = nullptr;
  }
  gpgme_op_keylist_end(ctx.get());
  if (!key) {
    throw SigningError("no usable secret signing key" +
                           (o.key_id.empty() ? std::string() : " matching '" + o.key_id + "'"),
                       {{"keyring", impl_->home.empty() ? "default" : impl_->home}},
                       "set signing.key_id to a key listed by `gpg --list-secret-keys`, or "
                       "signing.private_key_file / private_key_env");
  }
  impl_->key = key;
  impl_->fingerprint = key->fpr ? key->fpr : "";
  sf::log().debug("signing with key {}", impl_->fingerprint);
}

GpgSigner::~GpgSigner() = default;

const std::string& GpgSigner::fingerprint() const { return impl_->fingerprint; }

std::string GpgSigner::sign_detached(const std::string& data) const {
  gpg::Context ctx(impl_->home);
  gpgme_set_pinentry_mode(ctx.get(), GPGME_PINENTRY_MODE_LOOPBACK);
  gpgme_set_passphrase_cb(ctx.get(), passphrase_cb, &impl_->passphrase);
  gpgme_signers_clear(ctx.get());
  gpgme_signers_add(ctx.get(), impl_->key);
  gpg::Data in(data);
  gpg::Data out;
  if (auto err = gpgme_op_sign(ctx.get(), in.get(), out.get(), GPGME_SIG_MODE_DETACH); err) {
    throw SigningError(
        "signing failed: " + gpg::error_text(err), {{"key", impl_->fingerprint}},
        gpgme_err_code(err) == GPG_ERR_BAD_PASSPHRASE || gpgme_err_code(err) == GPG_ERR_NO_PIN
            ? "provide the key's passphrase with signing.passphrase_file or "
              "signing.passphrase_env"
            : "check the key with `gpg --list-secret-keys`");
  }
  return out.str();
}

std::string GpgSigner::export_public_key() const {
  gpg::Context ctx(impl_->home);
  gpg::Data out;
  if (auto err = gpgme_op_export(ctx.get(), impl_->fingerprint.c_str(), 0, out.get()); err) {
    throw SigningError("cannot export the public key: " + gpg::error_text(err),
                       {{"key", impl_->fingerprint}});
  }
  return out.str();
}

std::string GpgSigner::generate_key(const std::string& gnupg_home, const std::string& user_id,
                                    const std::string& passphrase) {
  if (!gnupg_home.empty()) {
    fs::create_directories(gnupg_home);
    ::chmod(gnupg_home.c_str(), 0700);
  }
  gpg::Context ctx(gnupg_home);
  std::string pass = passphrase;
  gpgme_set_pinentry_mode(ctx.get(), GPGME_PINENTRY_MODE_LOOPBACK);
  gpgme_set_passphrase_cb(ctx.get(), passphrase_cb, &pass);
  unsigned flags = GPGME_CREATE_SIGN | GPGME_CREATE_FORCE;
  if (passphrase.empty()) flags |= GPGME_CREATE_NOPASSWD;
  if (auto err = gpgme_op_createkey(ctx.get(), user_id.c_str(), "ed25519", 0, 0, nullptr, flags);
      err) {
    throw SigningError("cannot create a key: " + gpg::error_text(err),
                       {{"keyring", gnupg_home.empty() ? "default" : gnupg_home}},
                       "check that gpg-agent can start for this keyring");
  }
  auto* res = gpgme_op_genkey_result(ctx.get());
  return res && res->fpr ? res->fpr : "";
}

}  // namespace sf
