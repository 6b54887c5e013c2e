// RAII wrappers around gpgme contexts and data buffers, shared by the signer and the verifier.
#pragma once

#include <gpgme.h>

#include <string>

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

}  // namespace sf::gpg
