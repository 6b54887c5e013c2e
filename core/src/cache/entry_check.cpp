#include "cache/entry_check.hpp"

#include <system_error>

#include "cache/cache_entry.hpp"

namespace sf {

namespace fs = std::filesystem;

EntryCheck check_entry(CacheChain& chain, CacheProvider& layer, const CacheGcEntry& entry,
                       const fs::path& dir, bool remove) {
  EntryCheck c;
  const auto key = CacheEntryKey::parse(entry.base + ".manifest.json");
  // Proven bad: the entry's own bytes contradict its signed manifest (a bad signature, a
  // tarball or file whose size or sha256 differs, a manifest naming another entry). A download
  // error or a signer outside the trust anchor proves nothing: such an entry is never removed.
  auto files = chain.fetch_from(layer, *key, dir);
  if (!files) {
    c.reason = "cannot download: " + files.error().message;
  } else {
    auto m = verify_cache_entry(*files, chain.options().trust, *key);
    if (!m) {
      c.reason = m.error().message;
      c.proven_bad = m.error().kind == Failure::Kind::kError;
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (c.proven_bad && remove && layer.writable()) {
    // Before removing, the verdict must hold on a second download (a body cut short by the
    // network is not a bad entry).
    const fs::path again = dir.string() + "-again";
    auto files2 = chain.fetch_from(layer, *key, again);
    auto m2 = files2 ? verify_cache_entry(*files2, chain.options().trust, *key)
                     : Expected<CacheManifest>(files2.error());
    c.proven_bad = !m2 && m2.error().kind == Failure::Kind::kError;
    if (!c.proven_bad) c.reason += " (not reproduced on a second download)";
    fs::remove_all(again, ec);
  }
  if (!c.reason.empty()) {
    if (remove && layer.writable() && c.proven_bad) {
      c.removed = true;
      for (const auto& k : entry.keys) {
        if (auto r = layer.remove(k); !r && r.error().kind != Failure::Kind::kNotFound) {
          c.removed = false;
          c.reason += "; cannot remove " + k + ": " + r.error().message;
        }
      }
    } else if (remove && layer.writable()) {
      c.reason += " (kept: not proven bad)";
    }
  }
  return c;
}

}  // namespace sf
