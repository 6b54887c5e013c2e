// The source fetcher: downloads source archives on the host into <cache_dir>/sourcecache/, keyed
// by sha256 (<cache_dir>/sourcecache/<sha256>/<file name>). Mirrors are tried in order, each with
// the HTTP client's connect/transfer timeouts and retries; a partial download is resumed (within a
// run by the client's retries, across runs from <cache_dir>/sourcecache/.partial/ when the same URL
// is tried again). The sha256 is checked before the file becomes visible (temp file + rename), so
// the cache never holds an unverified byte: a mismatch removes the download and is reported with
// the URL, the expected and the actual checksum. Several archives download in parallel (default 4)
// with a progress display. Concurrent processes sharing a cache serialise on a per-sha256 lock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "recipes/planner.hpp"
#include "slurm_factory/http_client.hpp"

namespace sf {

struct Plan;

struct SourceItem {
  std::string name;     // "slurm"
  std::string version;  // "24.11.5"
  std::string sha256;
  std::string filename;
  std::vector<std::string> mirrors;  // in order
  std::string recipe_file;           // where the pins come from (messages only; may be empty)

  // The source of a planned package (origin source).
  static SourceItem of(const PackageSpec& spec) {
    return {spec.name,           spec.version,    spec.source.sha256, spec.source.filename,
            spec.source.mirrors, spec.recipe_file};
  }
};

struct FetchOptions {
  int parallel = 4;
  http::Timeouts timeouts;
  http::RetryPolicy retry;
  // Where progress lines go (nullptr: none). Lines, not carriage returns: logs stay readable.
  std::ostream* progress = nullptr;
  std::chrono::milliseconds progress_interval{1000};
};

struct FetchResult {
  SourceItem item;
  std::filesystem::path path;
  bool was_cached = false;  // already in the cache: nothing downloaded
  std::string url;          // the mirror it came from
  std::uint64_t bytes = 0;
};

class SourceFetcher {
 public:
  explicit SourceFetcher(std::filesystem::path cache_dir, FetchOptions options = {});

  std::filesystem::path cache_root() const;  // <cache_dir>/sourcecache
  std::filesystem::path path_for(const SourceItem& item) const;
  bool has(const SourceItem& item) const;

  // Fetches one archive. Throws SourceError listing every URL tried and why each failed (a
  // checksum mismatch names the URL, expected and actual sha256).
  FetchResult fetch(const SourceItem& item) const;
  // Fetches all (deduplicated by sha256), `parallel` at a time. Every item is attempted; then a
  // single SourceError lists every failure. Results are in input order.
  std::vector<FetchResult> fetch_all(const std::vector<SourceItem>& items) const;

  // The source archives a plan needs (source-origin packages, in plan order).
  static std::vector<SourceItem> items_for(const Plan& plan);

 private:
  std::filesystem::path cache_dir_;
  FetchOptions options_;
};

}  // namespace sf
