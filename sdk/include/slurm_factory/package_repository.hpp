// Package repositories (ABI 3.1): the index a package manager reads (an APT repository for the
// deb packager's .debs), kept in a writable cache layer beside the binary cache. A plugin registers
// one under the name of the packager whose files it indexes (Registry::add_package_repository).
// `build-slurm --packager deb --publish all` (or `repo publish`) hands it this build's package
// files, a RepositoryStore on one layer and a RepositorySigner; it uploads the package files the
// layer lacks, then merges the index with what the layer already lists (other versions,
// architectures and flavours stay listed) and uploads it signed, the signature last.
//
// What the layer holds is hostile until checked: an index to merge with must carry a signature by
// a key the site trusts (RepositorySigner::trusted), and every file it names must match the sizes
// and digests that signed index gives; anything else stops the publication with an error, so a
// tampered index is never signed again by the site's key. One publisher at a time per repository:
// the layer gives no lock (docs/packaging.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "slurm_factory/expected.hpp"
#include "slurm_factory/packager.hpp"

namespace sf {

// One writable layer, as a repository sees it: keys relative to the repository's root.
class RepositoryStore {
 public:
  virtual ~RepositoryStore();
  // Where it stores, for messages (a directory or a redacted URL).
  virtual std::string location() const = 0;
  virtual Expected<bool> has(const std::string& key) = 0;
  // The object into `destination`; Failure kNotFound when there is none, a Failure when it is
  // larger than `max_bytes` (nothing is kept then).
  virtual Expected<void> get(const std::string& key, const std::filesystem::path& destination,
                             std::uint64_t max_bytes) = 0;
  // Atomic: a reader sees the old object or the whole new one.
  virtual Expected<void> put(const std::string& key, const std::filesystem::path& source) = 0;
};

// The site's signing key and trust, as the config names them (the same keyring as the cache).
class RepositorySigner {
 public:
  virtual ~RepositorySigner();
  virtual std::string fingerprint() const = 0;
  // An ASCII-armored detached signature of `data` (APT's Release.gpg). Throws SigningError.
  virtual std::string sign_detached(const std::string& data) const = 0;
  // `text` clear-signed (APT's InRelease). Throws SigningError.
  virtual std::string sign_clear(const std::string& text) const = 0;
  // True when `signature` (detached, armored) is a good signature of `data` by a trusted key.
  virtual bool trusted(const std::string& data, const std::string& signature) const = 0;
};

struct RepositoryInput {
  std::vector<std::filesystem::path> packages;  // this build's files of the packager
  ArtifactDescription artifact;
  std::filesystem::path scratch;  // a private, empty folder for downloads and the new index
  std::int64_t now = 0;           // the index's date (seconds since the epoch)
};

struct RepositoryReport {
  std::vector<std::string> uploaded;  // keys written, in order
  std::vector<std::string> present;   // package keys the layer had with the same bytes
  std::string index;                  // the signed index's key ("dists/trixie/InRelease")
  std::size_t listed = 0;             // packages the index lists after the merge
};

class SignedRepository {
 public:
  virtual ~SignedRepository();
  virtual std::string name() const = 0;  // "apt"
  // Throws PackagingError (a layer that fails, a package file that cannot be read) or
  // VerificationError (an index in the layer that no trusted key signed, or whose files do not
  // match it).
  virtual RepositoryReport publish(const RepositoryInput& input, RepositoryStore& store,
                                   const RepositorySigner& signer) = 0;
};

using SignedRepositoryFactory =
    std::function<std::unique_ptr<SignedRepository>(const nlohmann::json& settings)>;

}  // namespace sf
