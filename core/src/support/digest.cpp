// The tool's one SHA-256 (OpenSSL EVP): slurm_factory/digest.hpp.
#include "slurm_factory/digest.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>
#include <vector>

#include "slurm_factory/errors.hpp"
#include "support/file_io.hpp"

namespace sf {
namespace {

struct CtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

[[noreturn]] void openssl_failed() {
  throw SlurmFactoryError("OpenSSL could not compute a SHA-256 digest");
}

}  // namespace

struct Sha256::Impl {
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx{EVP_MD_CTX_new()};
  void init() {
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) openssl_failed();
  }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) { impl_->init(); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t size) {
  if (size > 0 && EVP_DigestUpdate(impl_->ctx.get(), data, size) != 1) openssl_failed();
}

void Sha256::reset() { impl_->init(); }

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(impl_->ctx.get(), md, &n) != 1) openssl_failed();
  impl_->init();
  return to_hex(md, n);
}

std::string md5_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_md5(), nullptr) != 1) {
    throw SlurmFactoryError("OpenSSL could not compute an MD5 digest");
  }
  return to_hex(md, n);
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr) != 1) openssl_failed();
  return to_hex(md, n);
}

Expected<std::string> sha256_file_hex(const std::filesystem::path& file, std::uint64_t offset,
                                      std::uint64_t length) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(file.c_str(), "rb"));
  if (!f || fseeko(f.get(), static_cast<off_t>(offset), SEEK_SET) != 0) {
    return Failure::error("cannot read " + file.string() + ": " +
                          std::error_code(errno, std::generic_category()).message());
  }
  Sha256 digest;
  std::vector<char> buf(1 << 20);
  std::uint64_t remaining = length;
  while (remaining > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), remaining));
    const std::size_t got = std::fread(buf.data(), 1, want, f.get());
    if (got == 0) {
      if (std::ferror(f.get()))
        return Failure::error("cannot read " + file.string() + ": read error");
      break;
    }
    digest.update(buf.data(), got);
    remaining -= got;
  }
  return digest.hex();
}

}  // namespace sf
