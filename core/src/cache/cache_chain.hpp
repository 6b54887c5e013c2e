// The binary-cache chain: the configured layers in order (fastest first). get tries them in order
// and copies a trustworthy hit into the faster writable layers; put writes to every writable
// layer (tarball, signature, then the manifest last, so a half-written entry is never seen); a
// layer that fails (error, timeout, unauthorized) is switched off for the rest of the run with one
// warning, and the work goes on with the others. Entries whose signature or sha256 does not check
// are skipped with a warning naming the entry and the reason, or refused (CacheError) when
// require_signed is set.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_entry.hpp"
#include "slurm_factory/cache_provider.hpp"

namespace sf {

// Caps on what a layer may send for an entry (CacheProvider::get_at_most): the manifest (a list of
// files with their sha256; 64 MiB is far above any package) and its detached signature. The
// tarball is capped at the size its manifest declares.
inline constexpr std::uint64_t kMaxManifestBytes = std::uint64_t{64} << 20;
inline constexpr std::uint64_t kMaxSignatureBytes = std::uint64_t{1} << 20;

struct CacheChainOptions {
  bool no_cache = false;  // --no-cache: never read, still write
  bool require_signed =
      false;               // signing.require_signed: an untrusted entry is an error, not a miss
  EntryTrustPolicy trust;  // verifier, allow_unsigned, deep
  // Downloads land in a private folder (mkdtemp) under this one first; "" = beside the destination
  // given to get() (same file system). A move across file systems is copied.
  std::filesystem::path staging_dir;
};

struct CacheHit {
  CacheManifest manifest;
  CacheEntryFiles files;  // under the directory given to get()
  std::string layer;      // the layer that had it
};

class CacheChain {
 public:
  CacheChain(std::vector<std::unique_ptr<CacheProvider>> layers, CacheChainOptions options);
  ~CacheChain();

  // Fetches and verifies the entry into `dir` (dir/<key>.tar.zst ...). nullopt on a miss.
  std::optional<CacheHit> get(const CacheEntryKey& key, const std::filesystem::path& dir);
  // Writes a packed entry to every enabled writable layer; returns the names written to.
  std::vector<std::string> put(const CacheEntryKey& key, const CacheEntryFiles& files);
  // Writes one entry to one layer (cache push/pull). Failure on error (layer not switched off).
  Expected<void> put_to(CacheProvider& layer, const CacheEntryKey& key,
                        const CacheEntryFiles& files);
  // Downloads the three files of `key` from `layer` into `dir` (no verification).
  Expected<CacheEntryFiles> fetch_from(CacheProvider& layer, const CacheEntryKey& key,
                                       const std::filesystem::path& dir);

  std::vector<CacheProvider*> layers() const;
  CacheProvider* layer(const std::string& name) const;
  bool enabled(const std::string& name) const;
  const CacheChainOptions& options() const;

 private:
  void switch_off(std::size_t index, const Failure& why);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// --local-cache DIR: replaces the url of the first "local" layer, or adds a writable local layer
// named "local" in front.
void apply_local_cache_override(std::vector<CacheLayerSpec>& layers, const std::string& dir);

// Rebuilds "<toolchain>/<arch>/index.json" (and the top "index.json" listing them) on a writable
// layer from its manifests. Returns the number of entries indexed.
Expected<std::size_t> rebuild_cache_index(CacheProvider& layer,
                                          const std::filesystem::path& scratch);

}  // namespace sf
