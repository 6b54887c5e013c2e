#include "cache/entry_copy.hpp"

#include <functional>
#include <system_error>

#include "cache/cache_entry.hpp"

namespace sf {

namespace fs = std::filesystem;

CopyOutcome copy_entry(CacheChain& chain, CacheProvider& src, CacheProvider& dst,
                       const CacheGcEntry& entry, const std::filesystem::path& scratch,
                       bool force) {
  CopyOutcome o{entry.base, src.name(), dst.name(), "copied", "", entry.size};
  const auto key = CacheEntryKey::parse(entry.base + ".manifest.json");
  if (!force) {
    auto has = dst.has(key->manifest());
    if (has && *has) {
      o.status = "present";
      return o;
    }
  }
  const fs::path dir = scratch / std::to_string(std::hash<std::string>{}(entry.base));
  auto files = chain.fetch_from(src, *key, dir);
  if (!files) {
    o.status = "failed";
    o.reason = "download: " + files.error().message;
    return o;
  }
  auto manifest = verify_cache_entry(*files, chain.options().trust, *key);
  if (!manifest) {
    o.status = "refused";
    o.reason = manifest.error().message;
  } else if (auto r = chain.put_to(dst, *key, *files); !r) {
    o.status = "failed";
    o.reason = "upload: " + r.error().message;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return o;
}

}  // namespace sf
