// Copying one verified cache entry between layers (cache push / pull): downloaded from one layer
// into a scratch folder, verified as a build would verify it before use, then written to the other.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "cache/cache_chain.hpp"
#include "cache/cache_gc.hpp"
#include "slurm_factory/cache_provider.hpp"

namespace sf {

struct CopyOutcome {
  std::string key;
  std::string from;
  std::string to;
  std::string status;  // "copied", "present", "refused", "failed"
  std::string reason;
  std::uint64_t size = 0;
};

// Downloads `entry` from `src` into a folder under `scratch`, verifies it, and writes it to `dst`
// (tarball, signature, manifest). "present" when `dst` has it already (unless `force`), "refused"
// when it does not verify, "failed" when it cannot be read or written. Never throws for one entry.
CopyOutcome copy_entry(CacheChain& chain, CacheProvider& src, CacheProvider& dst,
                       const CacheGcEntry& entry, const std::filesystem::path& scratch, bool force);

}  // namespace sf
