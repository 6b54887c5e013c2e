// Garbage collection of a local binary-cache layer (`cache gc`): entries are grouped from their
// objects (tarball, manifest, signature), their last use is the newest mtime of the three (the
// local provider touches an object on every read), and they are removed least recently used first:
// every entry unused for longer than --older-than, then more until the layer fits in --max-size.
// The manifest goes first, so a reader never sees half an entry. Leftovers of an interrupted write
// (a tarball or signature without a manifest) are removed when older than an hour.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/expected.hpp"

namespace sf {

struct CacheGcEntry {
  std::string base;               // "<toolchain>/<arch>/<name>-<version>-<hash12>"
  std::vector<std::string> keys;  // its objects
  std::uint64_t size = 0;         // bytes of all its objects
  std::int64_t last_use = 0;      // newest mtime (seconds since the epoch)
  bool complete = true;           // has a manifest
};

struct CacheGcOptions {
  std::optional<std::int64_t> older_than_seconds;  // remove entries unused for longer
  std::optional<std::uint64_t> max_size;           // then remove LRU until the total fits
  bool dry_run = false;
  std::int64_t now = 0;                      // seconds since the epoch; 0 = the current time
  std::int64_t orphan_grace_seconds = 3600;  // incomplete entries younger than this are in flight
};

struct CacheGcResult {
  std::vector<CacheGcEntry> removed;  // in removal order (least recently used first)
  std::size_t kept = 0;
  std::uint64_t size_before = 0;
  std::uint64_t size_after = 0;
};

// Groups a layer's objects into entries (index.json files and unknown keys are not entries).
std::vector<CacheGcEntry> group_cache_entries(const std::vector<CacheObject>& objects);

// Pure: which entries to remove, least recently used first.
CacheGcResult plan_cache_gc(std::vector<CacheGcEntry> entries, const CacheGcOptions& options);

// Removes what interrupted runs (`kill -9`) left: stale ".sf-tmp-<pid>-" files and folders (their
// process gone, or older than `grace_seconds`) anywhere in the local layer at `local_root` and in
// `cache_dir` (its tmp/ scratch, sources, ...), the work folders (<cache_dir>/work/<id>) of builds
// whose process is gone, and partial source downloads older than the grace period. Returns how
// many it removed. Either path may be empty.
std::size_t sweep_interrupted_writes(const std::filesystem::path& cache_dir,
                                     const std::filesystem::path& local_root,
                                     std::int64_t grace_seconds = 3600);

// Lists `layer`, plans, and (unless dry_run) removes: manifest first, then signature and tarball.
Expected<CacheGcResult> run_cache_gc(CacheProvider& layer, const CacheGcOptions& options);

}  // namespace sf
