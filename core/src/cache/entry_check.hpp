// Checking one cache entry as `cache verify` does: downloaded and verified as a build would before
// use (signature against the trust anchor, tarball size and sha256, the manifest naming its key,
// every file's sha256), and removed from a writable layer only when proven bad twice.
#pragma once

#include <filesystem>
#include <string>

#include "cache/cache_chain.hpp"
#include "cache/cache_gc.hpp"
#include "slurm_factory/cache_provider.hpp"

namespace sf {

struct EntryCheck {
  std::string reason;       // empty: the entry verifies
  bool proven_bad = false;  // its own bytes contradict its signed manifest
  bool removed = false;     // removed from the layer (only with `remove`, only when proven bad)
};

// Downloads `entry` of `layer` into `dir` (removed afterwards) and verifies it. Proven bad: a bad
// signature, a tarball or file whose size or sha256 differs, a manifest naming another entry; a
// download error or a signer outside the trust anchor proves nothing. With `remove`, an entry of a
// writable layer proven bad on a second download too is removed.
EntryCheck check_entry(CacheChain& chain, CacheProvider& layer, const CacheGcEntry& entry,
                       const std::filesystem::path& dir, bool remove);

}  // namespace sf
