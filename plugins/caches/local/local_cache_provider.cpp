// The "local" cache provider: objects are files under a directory. Writes go to a temporary file
// in the destination directory and are renamed into place (atomic); an advisory lock on
// <root>/.lock (shared for reads, exclusive for renames and removals) lets several builds on one
// machine share the directory with `cache gc` running beside them.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <limits>
#include <random>
#include <system_error>

#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace fs = std::filesystem;

namespace {

using sf::Expected;
using sf::Failure;

class FileLock {
 public:
  FileLock(const fs::path& file, bool exclusive) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0) {
      while (::flock(fd_, exclusive ? LOCK_EX : LOCK_SH) != 0 && errno == EINTR) {
      }
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937 rng{std::random_device{}()};
  return ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++) + "." +
         std::to_string(rng());
}

bool safe_key(const std::string& key) {
  if (key.empty() || key.front() == '/') return false;
  for (const auto& part : fs::path(key)) {
    if (part == "..") return false;
  }
  return true;
}

class LocalCacheProvider final : public sf::CacheProvider {
 public:
  LocalCacheProvider(std::string name, fs::path root, bool writable)
      : name_(std::move(name)), root_(std::move(root)), writable_(writable) {}

  std::string name() const override { return name_; }
  bool writable() const override { return writable_; }
  std::string location() const override { return root_.string(); }

  Expected<bool> has(const std::string& key) override {
    if (!safe_key(key)) return bad_key(key);
    std::error_code ec;
    bool exists = fs::is_regular_file(root_ / key, ec);
    if (ec && ec != std::errc::no_such_file_or_directory)
      return Failure::error(where(key) + ": " + ec.message());
    return exists;
  }

  Expected<void> get(const std::string& key, const fs::path& destination) override {
    return get_at_most(key, destination, std::numeric_limits<std::uint64_t>::max());
  }

  Expected<void> get_at_most(const std::string& key, const fs::path& destination,
                             std::uint64_t max_bytes) override {
    if (!safe_key(key)) return bad_key(key);
    std::error_code ec;
    if (auto r = ensure_root(false); !r) return r;
    FileLock lock(root_ / ".lock", false);
    const fs::path src = root_ / key;
    if (!fs::exists(src, ec)) return Failure::not_found(where(key) + ": no such object");
    {
      const auto size = fs::file_size(src, ec);
      if (!ec && size > max_bytes) {
        return Failure::error(where(key) + " holds " + std::to_string(size) +
                              " bytes, more than the " + std::to_string(max_bytes) +
                              " its manifest or listing declares; refused, nothing was copied");
      }
    }
    if (!destination.parent_path().empty()) fs::create_directories(destination.parent_path(), ec);
    const fs::path tmp = destination.string() + unique_suffix();
    fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      fs::remove(tmp, ec);
      return Failure::error("cannot copy " + src.string() + " to " + destination.string() + ": " +
                            ec.message());
    }
    fs::rename(tmp, destination, ec);
    if (ec)
      return Failure::error("cannot rename into " + destination.string() + ": " + ec.message());
    // Record the use (for `cache gc --max-size`, least recently used goes first).
    ::utimensat(AT_FDCWD, src.c_str(), nullptr, 0);
    return {};
  }

  Expected<void> put(const std::string& key, const fs::path& source) override {
    if (!writable_) return Failure::read_only("cache layer '" + name_ + "' is read-only");
    if (!safe_key(key)) return bad_key(key);
    if (auto r = ensure_root(true); !r) return r;
    const fs::path dst = root_ / key;
    std::error_code ec;
    fs::create_directories(dst.parent_path(), ec);
    if (ec)
      return Failure::error("cannot create " + dst.parent_path().string() + ": " + ec.message());
    const fs::path tmp = dst.string() + unique_suffix();
    fs::copy_file(source, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      fs::remove(tmp, ec);
      return Failure::error("cannot write " + tmp.string() + ": " + ec.message() +
                            "; check free space and permissions");
    }
    FileLock lock(root_ / ".lock", true);
    fs::rename(tmp, dst, ec);
    if (ec) {
      fs::remove(tmp, ec);
      return Failure::error("cannot rename into " + dst.string() + ": " + ec.message());
    }
    return {};
  }

  Expected<std::vector<sf::CacheObject>> list(const std::string& prefix) override {
    std::vector<sf::CacheObject> out;
    std::error_code ec;
    if (!fs::exists(root_, ec)) return out;
    FileLock lock(root_ / ".lock", false);
    for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string key = it->path().lexically_relative(root_).generic_string();
      if (key == ".lock" || key.find(".tmp.") != std::string::npos) continue;
      if (key.rfind(prefix, 0) != 0) continue;
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0) continue;
      out.push_back({key, static_cast<std::uint64_t>(st.st_size), st.st_mtim.tv_sec});
    }
    if (ec) return Failure::error("cannot list " + root_.string() + ": " + ec.message());
    return out;
  }

  Expected<void> remove(const std::string& key) override {
    if (!writable_) return Failure::read_only("cache layer '" + name_ + "' is read-only");
    if (!safe_key(key)) return bad_key(key);
    FileLock lock(root_ / ".lock", true);
    std::error_code ec;
    if (!fs::remove(root_ / key, ec) && !ec)
      return Failure::not_found(where(key) + ": no such object");
    if (ec) return Failure::error(where(key) + ": " + ec.message());
    return {};
  }

 private:
  std::string where(const std::string& key) const { return (root_ / key).string(); }
  Failure bad_key(const std::string& key) const {
    return Failure::error("cache layer '" + name_ + "': refused key '" + key +
                          "' (absolute or with '..')");
  }
  Expected<void> ensure_root(bool create) {
    std::error_code ec;
    if (fs::is_directory(root_, ec)) return {};
    if (!create) return Failure::not_found(root_.string() + " does not exist");
    fs::create_directories(root_, ec);
    if (ec)
      return Failure::error("cannot create cache directory " + root_.string() + ": " +
                            ec.message() + "; check permissions or set --local-cache DIR");
    return {};
  }

  std::string name_;
  fs::path root_;
  bool writable_;
};

fs::path root_from_url(const std::string& url) {
  if (url.rfind("file://", 0) == 0) return url.substr(7);
  return url;
}

void register_local(sf::Registry& registry) {
  // A local layer takes no settings: any key under `settings` is refused by the core.
  registry.add_cache_provider_type("local",
                                   [](const sf::CacheLayerSpec& spec) {
                                     return std::make_unique<LocalCacheProvider>(
                                         spec.name, root_from_url(spec.url), spec.writable);
                                   },
                                   {});
}

}  // namespace

SLURM_FACTORY_PLUGIN("cache-local", "1.0.0", "Binary cache in a local directory", register_local)
