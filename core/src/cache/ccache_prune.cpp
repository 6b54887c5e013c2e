#include "cache/ccache_prune.hpp"

#include <algorithm>
#include <system_error>

namespace fs = std::filesystem;

namespace sf {
namespace {

bool is_hash_name(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

CcachePruneReport prune_ccache_dirs(const fs::path& cache_dir,
                                    const std::vector<std::string>& live_tags, bool dry_run,
                                    const std::string& folder) {
  CcachePruneReport report;
  std::vector<std::string> live;
  for (const auto& tag : live_tags) {
    const auto colon = tag.rfind(':');
    const std::string hash = colon == std::string::npos ? tag : tag.substr(colon + 1);
    if (!hash.empty()) live.push_back(hash);
  }
  const fs::path root = cache_dir / folder;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(root, ec))) return report;
  std::vector<fs::path> doomed;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!is_hash_name(name) || !it->is_directory(ec) || it->is_symlink(ec)) continue;
    const bool in_use = std::any_of(live.begin(), live.end(),
                                    [&](const std::string& h) { return name.rfind(h, 0) == 0; });
    if (!in_use) doomed.push_back(it->path());
  }
  if (ec) report.failures.push_back(root.string() + ": " + ec.message());
  std::sort(doomed.begin(), doomed.end());
  for (const auto& d : doomed) {
    if (!dry_run) {
      std::error_code rec;
      fs::remove_all(d, rec);
      if (rec) {
        report.failures.push_back(d.string() + ": " + rec.message());
        continue;
      }
    }
    report.removed.push_back(d);
  }
  return report;
}

}  // namespace sf
