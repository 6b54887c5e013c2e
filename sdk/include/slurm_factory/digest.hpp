// SHA-256 for the whole tool and its plugins, in lower-case hex: of bytes, of a file (or a slice of
// one), and streaming for data that arrives in pieces (archive entries, uploads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "slurm_factory/expected.hpp"

namespace sf {

// Lower-case hex SHA-256 of bytes.
std::string sha256_hex(std::string_view bytes);

// Lower-case hex MD5 of bytes (ABI 3.1). Not for trust: only where a file format asks for it
// (a .deb's DEBIAN/md5sums).
std::string md5_hex(std::string_view bytes);

// Lower-case hex SHA-256 of `length` bytes of `file` from `offset` (the whole file by default; a
// slice running past the end stops at the end). A Failure when the file cannot be read.
Expected<std::string> sha256_file_hex(
    const std::filesystem::path& file, std::uint64_t offset = 0,
    std::uint64_t length = std::numeric_limits<std::uint64_t>::max());

// A SHA-256 fed piece by piece: update() as often as needed, then hex(), which finishes the digest
// and starts a new, empty one (so one object can hash many entries in turn).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(const void* data, std::size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // Drops what was fed so far.
  void reset();
  // Lower-case hex digest of everything fed since the start (or the last hex() / reset()).
  std::string hex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf
