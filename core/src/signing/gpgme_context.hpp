// RAII wrappers around gpgme contexts and data buffers, shared by the signer and the verifier, and
// the gpg-agent of a keyring: started by us with a scrubbed environment (no AWS_*, no passphrase
// variable: only PATH, GNUPGHOME and LC_ALL) and stopped when the last user in this process is
// done.
#pragma once

#include <gpgme.h>

#include <string>
#include <vector>

namespace sf::gpg {

// An OpenPGP context on `gnupg_home` ("" = default), ASCII armor on. Throws SigningError.
class Context {
 public:
  explicit Context(const std::string& gnupg_home);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  gpgme_ctx_t get() const { return ctx_; }

 private:
  gpgme_ctx_t ctx_ = nullptr;
};

class Data {
 public:
  Data();                                   // empty, writable
  explicit Data(const std::string& bytes);  // a copy of bytes
  ~Data();
  Data(const Data&) = delete;
  Data& operator=(const Data&) = delete;
  gpgme_data_t get() const { return d_; }
  std::string str() const;  // everything written so far

 private:
  gpgme_data_t d_ = nullptr;
};

std::string error_text(gpgme_error_t err);

// While a lease on `gnupg_home` lives, its gpg-agent runs, launched by this process with a minimal
// environment (`gpgconf --launch gpg-agent`, gpgconf by absolute path), so that gpg started later
// by gpgme finds it instead of autostarting one that inherits our whole environment. When the last
// lease of this process on that home ends, the agent is stopped (`gpgconf --kill gpg-agent`).
class AgentLease {
 public:
  explicit AgentLease(std::string gnupg_home);
  ~AgentLease();
  AgentLease(const AgentLease&) = delete;
  AgentLease& operator=(const AgentLease&) = delete;

 private:
  std::string home_;
};

// Runs gpgconf (absolute path) with `args` and the minimal environment; waits for it. Returns its
// exit status (-1 when it could not be started).
int run_gpgconf(const std::string& gnupg_home, const std::vector<std::string>& args);

}  // namespace sf::gpg
