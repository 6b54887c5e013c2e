#include "slurm_factory/core/cache_gc.hpp"

#include <algorithm>
#include <chrono>
#include <map>

namespace sf {
namespace {

constexpr const char* kSuffixes[] = {".manifest.json.asc", ".manifest.json", ".tar.zst"};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Removal order within an entry: the manifest (the entry disappears), signature, tarball.
int removal_rank(const std::string& key) {
  if (ends_with(key, ".manifest.json")) return 0;
  if (ends_with(key, ".manifest.json.asc")) return 1;
  return 2;
}

}  // namespace

std::vector<CacheGcEntry> group_cache_entries(const std::vector<CacheObject>& objects) {
  std::map<std::string, CacheGcEntry> by_base;
  for (const auto& o : objects) {
    for (const char* suffix : kSuffixes) {
      if (!ends_with(o.key, suffix)) continue;
      const std::string base = o.key.substr(0, o.key.size() - std::string(suffix).size());
      auto& e = by_base[base];
      if (e.keys.empty()) {
        e.base = base;
        e.complete = false;
      }
      e.keys.push_back(o.key);
      e.size += o.size;
      e.last_use = std::max(e.last_use, o.mtime);
      if (std::string(suffix) == ".manifest.json") e.complete = true;
      break;
    }
  }
  std::vector<CacheGcEntry> out;
  for (auto& [base, e] : by_base) {
    std::sort(e.keys.begin(), e.keys.end(), [](const std::string& a, const std::string& b) {
      return removal_rank(a) < removal_rank(b);
    });
    out.push_back(std::move(e));
  }
  return out;
}

CacheGcResult plan_cache_gc(std::vector<CacheGcEntry> entries, const CacheGcOptions& options) {
  const std::int64_t now = options.now != 0
                               ? options.now
                               : std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count();
  // Least recently used first; ties by name so the plan is stable.
  std::sort(entries.begin(), entries.end(), [](const CacheGcEntry& a, const CacheGcEntry& b) {
    return a.last_use != b.last_use ? a.last_use < b.last_use : a.base < b.base;
  });
  CacheGcResult result;
  for (const auto& e : entries) result.size_before += e.size;
  std::uint64_t total = result.size_before;
  std::vector<bool> gone(entries.size(), false);
  auto take = [&](std::size_t i) {
    gone[i] = true;
    total -= entries[i].size;
    result.removed.push_back(entries[i]);
  };
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto age = now - entries[i].last_use;
    if (!entries[i].complete && age > options.orphan_grace_seconds)
      take(i);
    else if (options.older_than_seconds && age > *options.older_than_seconds)
      take(i);
  }
  if (options.max_size) {
    for (std::size_t i = 0; i < entries.size() && total > *options.max_size; ++i) {
      if (gone[i]) continue;
      if (!entries[i].complete && now - entries[i].last_use <= options.orphan_grace_seconds)
        continue;  // a write in flight
      take(i);
    }
  }
  // Report in least-recently-used order.
  std::stable_sort(result.removed.begin(), result.removed.end(),
                   [](const CacheGcEntry& a, const CacheGcEntry& b) {
                     return a.last_use != b.last_use ? a.last_use < b.last_use : a.base < b.base;
                   });
  result.kept = entries.size() - result.removed.size();
  result.size_after = total;
  return result;
}

Expected<CacheGcResult> run_cache_gc(CacheProvider& layer, const CacheGcOptions& options) {
  auto objects = layer.list("");
  if (!objects) return objects.error();
  CacheGcResult result = plan_cache_gc(group_cache_entries(*objects), options);
  if (options.dry_run) return result;
  for (const auto& e : result.removed) {
    for (const auto& key : e.keys) {
      auto r = layer.remove(key);
      if (!r && r.error().kind != Failure::Kind::kNotFound) {
        Failure f = r.error();
        f.message = "cache gc: cannot remove " + key + " from layer '" + layer.name() + "' (" +
                    layer.location() + "): " + f.message;
        return f;
      }
    }
  }
  return result;
}

}  // namespace sf
