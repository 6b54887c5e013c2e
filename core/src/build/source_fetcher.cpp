#include "build/source_fetcher.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include "recipes/planner.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/file_io.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

// An exclusive lock on a file for the life of the object (flock: released if the process dies).
class FileLock {
 public:
  explicit FileLock(const fs::path& file) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
      throw SourceError("cannot lock " + file.string(), {{"file", file.string()}},
                        "check that the source cache directory is writable");
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

std::string read_small_file(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

std::string human_bytes(std::uint64_t n) {
  if (n >= 1024ULL * 1024) return fmt::format("{:.1f} MiB", static_cast<double>(n) / 1048576.0);
  if (n >= 1024ULL) return fmt::format("{:.1f} KiB", static_cast<double>(n) / 1024.0);
  return fmt::format("{} B", n);
}

// Serialises progress lines from parallel downloads and rate-limits them per item.
class ProgressDisplay {
 public:
  ProgressDisplay(std::ostream* out, std::chrono::milliseconds interval)
      : out_(out), interval_(interval) {}
  void line(const std::string& text) {
    if (out_ == nullptr) return;
    std::lock_guard lock(mu_);
    *out_ << text << "\n" << std::flush;
  }
  http::ProgressFn for_item(const std::string& label) {
    if (out_ == nullptr) return {};
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    return [this, label, last](std::uint64_t done, std::uint64_t total) {
      auto now = std::chrono::steady_clock::now();
      if (done == 0 || now - *last < interval_) return;
      *last = now;
      if (total > 0) {
        line(fmt::format("  {}: {} of {} ({}%)", label, human_bytes(done), human_bytes(total),
                         done * 100 / total));
      } else {
        line(fmt::format("  {}: {}", label, human_bytes(done)));
      }
    };
  }

 private:
  std::ostream* out_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
};

FetchResult fetch_one(const fs::path& root, const SourceItem& item, const FetchOptions& options,
                      ProgressDisplay& display) {
  const fs::path final_dir = root / item.sha256;
  const fs::path final_path = final_dir / item.filename;
  const fs::path partial_dir = root / ".partial";
  std::error_code ec;
  fs::create_directories(partial_dir, ec);
  if (ec) {
    throw SourceError(
        "cannot create the source cache " + partial_dir.string() + ": " + ec.message(),
        {{"directory", partial_dir.string()}},
        "check that the cache directory is writable (cache_dir in the config)");
  }
  FetchResult result{item, final_path, false, "", 0};
  FileLock lock(partial_dir / (item.sha256 + ".lock"));
  // A cached file is used only if its bytes still hash to the pinned sha256 (a disk error, a
  // hand-copied or edited file is not trusted because it exists); else it is removed and fetched.
  const auto cached_status = fs::symlink_status(final_path, ec);
  if (fs::exists(cached_status)) {
    auto actual = fs::is_regular_file(cached_status)
                      ? sha256_file_hex(final_path)
                      : Expected<std::string>(Failure::error("not a regular file"));
    if (actual && *actual == item.sha256) {
      result.was_cached = true;
      result.bytes = fs::file_size(final_path, ec);
      return result;
    }
    log().warn("source {} {}: the cached {} {}; removing it and fetching again", item.name,
               item.version, final_path.string(),
               actual ? "has sha256 " + *actual + ", not the pinned " + item.sha256
                      : "cannot be used (" + actual.error().message + ")");
    fs::remove(final_path, ec);
    if (ec) {
      throw SourceError(
          "cannot remove the corrupt cached source " + final_path.string() + ": " + ec.message(),
          {{"package", item.name}, {"file", final_path.string()}},
          "remove it by hand, then fetch again");
    }
  }
  const fs::path partial = partial_dir / (item.sha256 + ".part");
  const fs::path partial_url = partial_dir / (item.sha256 + ".url");
  const std::string label = item.name + " " + item.version;

  std::vector<std::string> tried;  // "url: reason"
  std::string mismatch_url, mismatch_actual;
  for (const auto& url : item.mirrors) {
    // Resume only bytes that came from this very URL.
    if (fs::exists(partial) && read_small_file(partial_url) != url) fs::remove(partial, ec);
    std::ofstream(partial_url, std::ios::trunc) << url << "\n";
    http::ClientOptions copts;
    copts.timeouts = options.timeouts;
    copts.retry = options.retry;
    copts.progress = display.for_item(label);
    http::HttpClient client(std::move(copts));
    const std::string shown = client.redact(url);
    display.line(fmt::format("fetching {} ({}) from {}", label, item.filename, shown));
    auto response = client.get_to_file(url, partial, true);
    if (!response) {
      tried.push_back(shown + ": " + response.error().message);
      // Keep received bytes for a later resume from this URL; nothing else.
      if (!fs::exists(partial) || fs::file_size(partial, ec) == 0) {
        fs::remove(partial, ec);
        fs::remove(partial_url, ec);
      }
      log().info("source {}: {} failed: {}", label, shown, response.error().message);
      continue;
    }
    auto actual = sha256_file_hex(partial);
    if (!actual) {
      tried.push_back(shown + ": cannot read the download: " + actual.error().message);
      fs::remove(partial, ec);
      continue;
    }
    if (*actual != item.sha256) {
      fs::remove(partial, ec);
      fs::remove(partial_url, ec);
      tried.push_back(shown + ": checksum mismatch: expected sha256 " + item.sha256 + ", got " +
                      *actual);
      if (mismatch_url.empty()) mismatch_url = shown, mismatch_actual = *actual;
      continue;
    }
    fs::create_directories(final_dir, ec);
    // fsynced before the rename that makes it visible, the folder after it.
    if (auto problem = rename_or_copy(partial, final_path); !problem.empty()) {
      fs::remove(partial, ec);
      throw SourceError(
          "cannot move the verified download into " + final_path.string() + ": " + problem,
          {{"package", item.name}, {"file", final_path.string()}},
          "check the cache directory's permissions and free space");
    }
    fs::remove(partial_url, ec);
    result.url = shown;
    result.bytes = fs::file_size(final_path, ec);
    display.line(fmt::format("fetched {} ({}, sha256 verified)", label, human_bytes(result.bytes)));
    return result;
  }

  ErrorContext ctx{{"package", item.name},
                   {"version", item.version},
                   {"file", item.filename},
                   {"expected sha256", item.sha256}};
  for (size_t i = 0; i < tried.size(); ++i)
    ctx.emplace_back("tried " + std::to_string(i + 1), tried[i]);
  if (!mismatch_url.empty()) {
    ctx.emplace_back("url", mismatch_url);
    ctx.emplace_back("actual sha256", mismatch_actual);
    throw SourceError(
        fmt::format("checksum mismatch for {} {}: {} served sha256 {}, expected {}", item.name,
                    item.version, mismatch_url, mismatch_actual, item.sha256),
        ctx,
        "nothing was cached; the mirror serves other bytes than the recipe pins: check the "
        "recipe's sha256 and mirrors (" +
            recipe_to_fix(item.name, item.recipe_file) + ")");
  }
  throw SourceError(fmt::format("cannot fetch {} {} ({}): all {} mirror(s) failed", item.name,
                                item.version, item.filename, item.mirrors.size()),
                    ctx,
                    "check the network and the mirrors, or place the verified file at " +
                        final_path.string() +
                        " (prepared with `slurm-factory fetch` on a connected machine)");
}

}  // namespace

SourceFetcher::SourceFetcher(fs::path cache_dir, FetchOptions options)
    : cache_dir_(std::move(cache_dir)), options_(std::move(options)) {}

fs::path SourceFetcher::cache_root() const { return cache_dir_ / "sourcecache"; }

fs::path SourceFetcher::path_for(const SourceItem& item) const {
  return cache_root() / item.sha256 / item.filename;
}

bool SourceFetcher::has(const SourceItem& item) const {
  return fs::is_regular_file(path_for(item));
}

FetchResult SourceFetcher::fetch(const SourceItem& item) const {
  ProgressDisplay display(options_.progress, options_.progress_interval);
  return fetch_one(cache_root(), item, options_, display);
}

std::vector<FetchResult> SourceFetcher::fetch_all(const std::vector<SourceItem>& items) const {
  // One download per sha256; results are copied back to every item with that sha256.
  std::vector<size_t> unique;
  std::map<std::string, size_t> first_of;
  for (size_t i = 0; i < items.size(); ++i) {
    if (first_of.emplace(items[i].sha256, i).second) unique.push_back(i);
  }
  ProgressDisplay display(options_.progress, options_.progress_interval);
  std::vector<FetchResult> results(items.size());
  std::vector<std::string> errors(items.size());
  std::vector<std::exception_ptr> exceptions(items.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    while (true) {
      size_t k = next.fetch_add(1);
      if (k >= unique.size()) return;
      size_t i = unique[k];
      try {
        results[i] = fetch_one(cache_root(), items[i], options_, display);
      } catch (const SlurmFactoryError& e) {
        errors[i] = e.render();
        exceptions[i] = std::current_exception();
      } catch (const std::exception& e) {
        errors[i] = e.what();
        exceptions[i] = std::current_exception();
      }
    }
  };
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(1, options_.parallel)), unique.size());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < n; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  ErrorContext ctx;
  std::string first;
  int failed = 0;
  for (size_t i : unique) {
    if (errors[i].empty()) continue;
    ++failed;
    ctx.emplace_back(items[i].name + " " + items[i].version, errors[i]);
    if (first.empty()) first = errors[i].substr(0, errors[i].find('\n'));
  }
  if (failed == 1 && unique.size() == 1) {
    // A single item: rethrow its own error unchanged.
    std::rethrow_exception(exceptions[unique[0]]);
  }
  if (failed > 0) {
    throw SourceError(fmt::format("{} of {} source archive(s) could not be fetched; first: {}",
                                  failed, unique.size(), first),
                      ctx, "see each failure above; nothing unverified was cached");
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (results[i].path.empty()) {
      results[i] = results[first_of.at(items[i].sha256)];
      results[i].item = items[i];
    }
  }
  return results;
}

std::vector<SourceItem> SourceFetcher::items_for(const Plan& plan) {
  std::vector<SourceItem> out;
  for (const auto& p : plan.packages) {
    if (p.origin != Origin::kSource) continue;
    out.push_back(SourceItem::of(p));
  }
  return out;
}

}  // namespace sf
