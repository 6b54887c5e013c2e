#include "cache/cache_gc.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>

#include "support/file_io.hpp"

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

// The pid a work folder name carries: "<UTC time>-<pid>[-<n>]" (a build) or "publish-<pid>".
long work_folder_pid(const std::string& name) {
  const auto dash = name.find('-');
  if (dash == std::string::npos) return -1;
  const auto end = name.find('-', dash + 1);
  const std::string digits = name.substr(dash + 1, end == std::string::npos ? end : end - dash - 1);
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stol(digits);
}

bool process_gone(long pid) {
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

std::size_t sweep_interrupted_writes(const std::filesystem::path& cache_dir,
                                     const std::filesystem::path& local_root,
                                     std::int64_t grace_seconds) {
  namespace fs = std::filesystem;
  std::size_t removed = 0;
  if (!local_root.empty()) removed += remove_stale_temps(local_root, true, grace_seconds);
  if (cache_dir.empty()) return removed;
  removed += remove_stale_temps(cache_dir / "tmp", false, grace_seconds);
  // Work folders of builds whose process is gone (a build removes its own when it ends).
  std::error_code ec;
  for (fs::directory_iterator it(cache_dir / "work", ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory() || it->is_symlink()) continue;
    const std::string name = it->path().filename().string();
    // ".trash-<id>": a finished run's folder, set aside for a background removal.
    if (name.rfind(".trash-", 0) != 0 && !process_gone(work_folder_pid(name))) continue;
    std::error_code e2;
    if (fs::remove_all(it->path(), e2) > 0 && !e2) ++removed;
  }
  // What the core's temp files left anywhere else in the cache (sources, entries being unpacked).
  ec.clear();
  for (fs::directory_iterator it(cache_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == "work" || name == "tmp" || name == "gnupg" || it->is_symlink()) continue;
    if (it->is_directory()) removed += remove_stale_temps(it->path(), true, grace_seconds);
  }
  // Partial source downloads nobody resumed for longer than the grace period.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  ec.clear();
  for (fs::directory_iterator it(cache_dir / "sourcecache" / ".partial", ec), end; !ec && it != end;
       it.increment(ec)) {
    struct stat st {};
    const std::string name = it->path().filename().string();
    if (name.size() < 5 || (name.compare(name.size() - 5, 5, ".part") != 0 &&
                            name.compare(name.size() - 4, 4, ".url") != 0))
      continue;
    if (::lstat(it->path().c_str(), &st) != 0 || now - st.st_mtim.tv_sec <= grace_seconds) continue;
    std::error_code e2;
    if (fs::remove(it->path(), e2)) ++removed;
  }
  return removed;
}

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
