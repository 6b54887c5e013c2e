// The "local" cache provider: objects are files under a directory. Writes go to a temporary file
// (".sf-tmp-<pid>-...") in the destination directory, fsynced, and are renamed into place (atomic;
// the folder is fsynced too; temp files of dead writers are removed by later writes and gc); an
// advisory lock on <root>/.lock (shared for reads, exclusive for renames and removals) lets several
// builds on one machine share the directory with `cache gc` running beside them.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
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

// A temp file beside `dst`: ".sf-tmp-<pid>-<n>-<random>-<name>", the name every slurm-factory
// temp file carries, so `cache gc` and later writes remove what a killed process left.
fs::path temp_beside(const fs::path& dst) {
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937 rng{std::random_device{}()};
  return dst.parent_path() /
         (".sf-tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
          std::to_string(rng()) + "-" + dst.filename().string());
}

bool is_temp_name(const std::string& name) { return name.rfind(".sf-tmp-", 0) == 0; }

// Removes the temp files in `dir` whose process is gone (a writer killed mid-copy).
void remove_dead_temps(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!is_temp_name(name)) continue;
    const long pid = std::strtol(name.c_str() + 8, nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code e2;
      fs::remove(it->path(), e2);
    }
  }
}

// Copies `src` to `tmp` and fsyncs it (data on disk before the rename that publishes it).
std::string copy_synced(const fs::path& src, const fs::path& tmp) {
  std::error_code ec;
  fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) return ec.message();
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return "fsync: " + why;
  }
  ::close(fd);
  return {};
}

void sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
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
    const fs::path tmp = temp_beside(destination);
    if (auto why = copy_synced(src, tmp); !why.empty()) {
      fs::remove(tmp, ec);
      return Failure::error("cannot copy " + src.string() + " to " + destination.string() + ": " +
                            why);
    }
    fs::rename(tmp, destination, ec);
    if (ec) {
      const std::string why = ec.message();
      fs::remove(tmp, ec);
      return Failure::error("cannot rename into " + destination.string() + ": " + why);
    }
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
    remove_dead_temps(dst.parent_path());
    const fs::path tmp = temp_beside(dst);
    if (auto why = copy_synced(source, tmp); !why.empty()) {
      fs::remove(tmp, ec);
      return Failure::error("cannot write " + tmp.string() + ": " + why +
                            "; check free space and permissions");
    }
    FileLock lock(root_ / ".lock", true);
    fs::rename(tmp, dst, ec);
    if (ec) {
      const std::string why = ec.message();
      fs::remove(tmp, ec);
      return Failure::error("cannot rename into " + dst.string() + ": " + why);
    }
    sync_dir(dst.parent_path());  // the rename itself survives a crash
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
      if (key == ".lock" || is_temp_name(it->path().filename().string()) ||
          key.find(".tmp.") != std::string::npos)
        continue;
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
