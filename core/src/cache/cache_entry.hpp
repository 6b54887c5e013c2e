// A binary-cache entry on disk: pack a staged tree into tarball + manifest (+ detached signature),
// verify a fetched entry (signature against the trust anchor, tarball sha256 and size, manifest
// matches its key, optionally every file), and unpack a verified entry safely.
#pragma once

#include <filesystem>
#include <string>

#include "cache/cache_manifest.hpp"
#include "slurm_factory/expected.hpp"

namespace sf {

class GpgSigner;
class GpgVerifier;

struct CacheEntryFiles {
  std::filesystem::path tarball;
  std::filesystem::path manifest;
  std::filesystem::path signature;  // empty or missing file: unsigned
  // The three files of `key` under `dir` (dir/<key>.tar.zst, ...).
  static CacheEntryFiles under(const std::filesystem::path& dir, const CacheEntryKey& key);
};

// Packs `tree` as the entry described by `manifest` (name, version, hash, toolchain, arch and the
// inputs filled by the caller) under `dir`; fills files, tarball sha256/size, build time, builder
// version and `is_signed`. With a signer, writes the detached signature of the manifest bytes.
Expected<CacheEntryFiles> pack_cache_entry(const std::filesystem::path& tree,
                                           CacheManifest& manifest,
                                           const std::filesystem::path& dir,
                                           const GpgSigner* signer);

struct EntryTrustPolicy {
  const GpgVerifier* verifier = nullptr;  // nullptr: signatures cannot be checked
  bool allow_unsigned = false;  // accept entries without signature (or by an unknown signer)
  bool deep = false;            // also re-hash every file inside the tarball
};

// The manifest of a trustworthy entry, or a Failure whose message is the reason it is not
// ("signature missing", "bad signature ...", "tarball sha256 mismatch ..."). Its kind says how
// sure that is: kError = proven bad (a bad signature, a tarball or file whose size or sha256
// differs from the signed manifest, a manifest that names another entry or is malformed);
// kUnauthorized = not trusted, nothing proven (unsigned, signed by a key outside the trust
// anchor); kNotFound = a file of the entry is missing here. Only kError justifies removing it.
// allow_unsigned accepts a missing signature (or one by an unknown signer), never a bad one.
// `expected` guards against an entry stored under another entry's name: its toolchain, arch, name
// and version must match the manifest's, and its hash in full (64 characters) or its prefix.
Expected<CacheManifest> verify_cache_entry(const CacheEntryFiles& files,
                                           const EntryTrustPolicy& policy,
                                           const CacheEntryKey& expected);
// The same with a key base ("<toolchain>/<arch>/<name>-<version>-<hash12>", checked by
// CacheEntryKey::parse), or "" for no key check.
Expected<CacheManifest> verify_cache_entry(const CacheEntryFiles& files,
                                           const EntryTrustPolicy& policy,
                                           const std::string& expected_key = {});

// Verifies, then extracts under `destination` and checks every extracted file against the
// manifest; on any mismatch nothing is left behind.
Expected<CacheManifest> unpack_cache_entry(const CacheEntryFiles& files,
                                           const EntryTrustPolicy& policy,
                                           const std::filesystem::path& destination);

}  // namespace sf
