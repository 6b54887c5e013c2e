#include "signing/gpg_signer.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "signing/gpg_verifier.hpp"
#include "signing/gpgme_context.hpp"
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

void kill_agent(const std::string& home) { gpg::run_gpgconf(home, {"--kill", "all"}); }

}  // namespace

struct GpgSigner::Impl {
  GpgSignerOptions options;
  std::string home;       // effective GNUPGHOME
  std::string temp_home;  // ours to remove
  std::string passphrase;
  std::string fingerprint;
  gpgme_key_t key = nullptr;
  std::unique_ptr<gpg::AgentLease> agent;  // the keyring's agent, scrubbed, stopped at the end

  ~Impl() {
    if (key) gpgme_key_unref(key);
    agent.reset();
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
    // Under cache_dir (not /tmp), named for this process, so that the next start removes it
    // after a kill -9.
    const fs::path parent = o.temp_parent.empty() ? fs::temp_directory_path() : o.temp_parent;
    std::error_code ec;
    fs::create_directories(parent, ec);
    std::string tmpl = (parent / ("sf-gnupg-" + std::to_string(::getpid()) + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) {
      throw SigningError("cannot create a temporary keyring", {{"directory", tmpl}},
                         "check that the cache directory is writable");
    }
    impl_->home = impl_->temp_home = tmpl;
  }
  if (!impl_->home.empty()) impl_->agent = std::make_unique<gpg::AgentLease>(impl_->home);

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

  // Find the secret key: the one named, else the keyring's only one.
  const std::string keyring_name = impl_->home.empty() ? "default" : impl_->home;
  const char* pattern = o.key_id.empty() ? nullptr : o.key_id.c_str();
  if (auto err = gpgme_op_keylist_start(ctx.get(), pattern, 1); err) {
    throw SigningError("cannot list secret keys: " + gpg::error_text(err),
                       {{"keyring", keyring_name}}, "check signing.keyring");
  }
  std::vector<gpgme_key_t> usable;
  gpgme_key_t key = nullptr;
  while (!gpgme_op_keylist_next(ctx.get(), &key)) {
    if (key->can_sign && !key->revoked && !key->expired && !key->disabled) {
      usable.push_back(key);
      if (pattern != nullptr) break;  // the first match of the id
    } else {
      gpgme_key_unref(key);
    }
  }
  gpgme_op_keylist_end(ctx.get());
  if (usable.empty()) {
    throw SigningError("no usable secret signing key" +
                           (o.key_id.empty() ? std::string() : " matching '" + o.key_id + "'"),
                       {{"keyring", keyring_name}},
                       "set signing.key_id to a key listed by `gpg --homedir " + keyring_name +
                           " --list-secret-keys`, or signing.private_key_file / private_key_env");
  }
  if (usable.size() > 1) {
    std::string fprs;
    for (auto* k : usable) {
      fprs += (fprs.empty() ? "" : ", ") + std::string(k->fpr ? k->fpr : "?");
      gpgme_key_unref(k);
    }
    throw SigningError("the keyring holds " + std::to_string(usable.size()) +
                           " secret signing keys and signing.key_id does not say which signs",
                       {{"keyring", keyring_name}, {"keys", fprs}},
                       "set signing.key_id to one of these fingerprints");
  }
  key = usable.front();
  impl_->key = key;
  impl_->fingerprint = key->fpr ? key->fpr : "";
  sf::log().debug("signing with key {}", impl_->fingerprint);
}

GpgSigner::~GpgSigner() = default;

const std::string& GpgSigner::fingerprint() const { return impl_->fingerprint; }

const std::string& GpgSigner::gnupg_home() const { return impl_->home; }

std::string GpgSigner::sign_detached(const std::string& data) const { return sign(data, false); }

std::string GpgSigner::sign_clear(const std::string& text) const { return sign(text, true); }

std::string GpgSigner::sign(const std::string& data, bool clear) const {
  gpg::Context ctx(impl_->home);
  gpgme_set_pinentry_mode(ctx.get(), GPGME_PINENTRY_MODE_LOOPBACK);
  gpgme_set_passphrase_cb(ctx.get(), passphrase_cb, &impl_->passphrase);
  gpgme_signers_clear(ctx.get());
  gpgme_signers_add(ctx.get(), impl_->key);
  gpg::Data in(data);
  gpg::Data out;
  if (auto err = gpgme_op_sign(ctx.get(), in.get(), out.get(),
                               clear ? GPGME_SIG_MODE_CLEAR : GPGME_SIG_MODE_DETACH);
      err) {
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
  gpg::AgentLease agent(gnupg_home);
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
  forget_secret_keys(gnupg_home);
  auto* res = gpgme_op_genkey_result(ctx.get());
  return res && res->fpr ? res->fpr : "";
}

int remove_stale_temp_homes(const fs::path& parent) {
  int removed = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("sf-gnupg-", 0) != 0) continue;
    const auto dash = name.find('-', 9);
    if (dash == std::string::npos) continue;
    pid_t pid = 0;
    try {
      pid = static_cast<pid_t>(std::stol(name.substr(9, dash - 9)));
    } catch (const std::exception&) {
      continue;
    }
    if (pid <= 0) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge
    std::error_code ec2;
    if (!fs::is_directory(e.symlink_status(ec2))) continue;  // never follow a link
    kill_agent(e.path().string());
    fs::remove_all(e.path(), ec2);
    if (!ec2) ++removed;
  }
  return removed;
}

}  // namespace sf
