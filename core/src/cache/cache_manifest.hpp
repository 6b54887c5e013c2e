// The manifest of a binary-cache entry (docs/cache-format.md): what was built, from what, by whom,
// every file with size, mode and sha256, and the tarball's sha256. Serialized as canonical JSON
// (sorted keys, two-space indent, trailing newline) so the bytes that are signed are stable.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/expected.hpp"

namespace sf {

// Where an entry lives: "<toolchain>/<arch>/<name>-<version>-<hash12>" + suffixes.
struct CacheEntryKey {
  std::string toolchain;  // "debian-bookworm"
  std::string arch;       // "x86_64"
  std::string name;       // "slurm"
  std::string version;    // "24.11.1"
  std::string hash;       // full sha256 hex (64), or at least its first 12 characters

  std::string base() const;  // without suffix
  std::string tarball() const { return base() + ".tar.zst"; }
  std::string manifest() const { return base() + ".manifest.json"; }
  std::string signature() const { return base() + ".manifest.json.asc"; }
  // Parses any of the three keys back ("name" may contain '-'; version may not). This is the one
  // check of a key that comes from outside (a remote listing, an index, the command line): exactly
  // "<toolchain>/<arch>/<name>-<version>-<hash12>" plus an entry suffix, every part made of
  // letters, digits and . _ + ~ - (never "..", never starting with '.'), hash12 lowercase hex.
  // nullopt for anything else.
  static std::optional<CacheEntryKey> parse(const std::string& key);
  // The same rule for a key built from parts (a manifest's fields): true when base() is safe.
  bool valid() const;
};

inline constexpr int kCacheFormatVersion = 1;

struct CacheManifest {
  int format = kCacheFormatVersion;
  std::string name;
  std::string version;
  std::string hash;  // full package hash
  std::string toolchain;
  std::string arch;
  nlohmann::json toolchain_identity = nlohmann::json::object();  // family, release, image hash..
  std::map<std::string, std::string> dependencies;               // name -> full hash
  std::vector<std::string> features;
  nlohmann::json arguments = nlohmann::json::object();  // resolved build arguments
  std::vector<ArchiveEntryInfo> files;
  std::string tarball_sha256;
  std::uint64_t tarball_size = 0;
  std::string build_time;  // RFC 3339 UTC
  std::string builder_version;
  bool is_signed = false;        // a detached signature accompanies the manifest
  bool unsigned_inputs = false;  // built from entries accepted with signing.allow_unsigned

  CacheEntryKey key() const { return {toolchain, arch, name, version, hash}; }
  std::string to_json() const;  // canonical bytes (the signed text)
  static Expected<CacheManifest> parse(const std::string& text);
};

// The current time as RFC 3339 UTC ("2025-01-31T12:00:00Z").
std::string utc_now_rfc3339();

}  // namespace sf
