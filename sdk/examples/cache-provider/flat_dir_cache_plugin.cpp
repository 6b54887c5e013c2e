// An out-of-tree cache provider plugin. It adds one cache provider type, "flatdir": a layer of this
// type stores every object as one file in one directory, named by flat_names.hpp (no
// subdirectories). It knows bytes under keys, nothing else: the core's cache chain signs, verifies
// and indexes entries, whatever the layer's type.
//
//   cache:
//     layers:
//       - {name: shared, type: flatdir, url: file:///srv/sf-flat, settings: {file_mode: "0664"}}
//
// The contract it keeps (slurm_factory/cache_provider.hpp): put is atomic (a temporary file in the
// same directory, fsynced, then renamed over the name), a missing key is Failure::not_found, a
// read-only layer refuses put/remove with Failure::read_only, and every message names the file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "flat_names.hpp"
#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace fs = std::filesystem;

namespace {

using sf::Expected;
using sf::Failure;

// settings.file_mode: the permission bits of stored files, octal digits (0644 by default; 0664 for
// a directory a group shares). The config hands a number-like scalar over as a JSON number, "0664"
// as 664, so the digits are read as octal whatever the JSON type. Never setuid/setgid/sticky.
mode_t file_mode(const sf::CacheLayerSpec& spec) {
  const auto it = spec.settings.find("file_mode");
  if (it == spec.settings.end()) return 0644;
  const std::string text = it->is_string() ? it->get<std::string>() : it->dump();
  const bool octal = (it->is_string() || it->is_number_integer()) && !text.empty() &&
                     text.size() <= 4 && text.find_first_not_of("01234567") == std::string::npos;
  const unsigned long value = octal ? std::stoul(text, nullptr, 8) : 07777;
  if (value > 0777) {
    throw sf::ConfigurationError(
        "cache layer '" + spec.name + "': settings.file_mode is " + text +
            ", expected octal permission bits such as 0644 (no setuid, setgid or sticky)",
        {{"layer", spec.name}, {"setting", "file_mode"}},
        "write the permission bits, e.g. file_mode: \"0664\"");
  }
  return static_cast<mode_t>(value);
}

// url: file:///absolute/dir, or the absolute directory itself.
fs::path root_of(const sf::CacheLayerSpec& spec) {
  const std::string dir = spec.url.rfind("file://", 0) == 0 ? spec.url.substr(7) : spec.url;
  if (dir.empty() || dir.front() != '/') {
    throw sf::ConfigurationError("cache layer '" + spec.name + "' (type flatdir): url '" +
                                     spec.url + "' is not an absolute directory",
                                 {{"layer", spec.name}, {"url", spec.url}},
                                 "use url: file:///absolute/directory");
  }
  return dir;
}

// Copies `from` to `to` and fsyncs `to`; "" on success, else why not.
std::string copy_synced(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return ec.message();
  const int fd = ::open(to.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  const bool synced = ::fsync(fd) == 0;
  const std::string why = synced ? "" : std::string("fsync: ") + std::strerror(errno);
  ::close(fd);
  return why;
}

// A name beside `target` that no key maps to (it starts with '.'), unique in this process.
fs::path temp_beside(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  return target.parent_path() / (".tmp-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(counter++) + "-" + target.filename().string());
}

// Publishes `from` as `to`: copied to a temporary name in `to`'s directory, then renamed.
Expected<void> publish(const fs::path& from, const fs::path& to, mode_t mode) {
  const fs::path tmp = temp_beside(to);
  std::error_code ec;
  if (std::string why = copy_synced(from, tmp); !why.empty()) {
    fs::remove(tmp, ec);
    return Failure::error("cannot write " + tmp.string() + " (from " + from.string() + "): " + why +
                          "; check free space and permissions");
  }
  if (mode != 0 && ::chmod(tmp.c_str(), mode) != 0) {
    const std::string why = std::strerror(errno);
    fs::remove(tmp, ec);
    return Failure::error("cannot chmod " + tmp.string() + ": " + why);
  }
  fs::rename(tmp, to, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    return Failure::error("cannot rename " + tmp.string() + " to " + to.string() + ": " + why);
  }
  return {};
}

class FlatDirProvider final : public sf::CacheProvider {
 public:
  explicit FlatDirProvider(const sf::CacheLayerSpec& spec)
      : name_(spec.name), root_(root_of(spec)), writable_(spec.writable), mode_(file_mode(spec)) {}

  std::string name() const override { return name_; }
  bool writable() const override { return writable_; }
  std::string location() const override { return root_.string(); }

  Expected<bool> has(const std::string& key) override {
    if (key.empty()) return empty_key();
    std::error_code ec;
    const bool there = fs::is_regular_file(file_of(key), ec);
    if (ec && ec != std::errc::no_such_file_or_directory)
      return Failure::error(file_of(key).string() + ": " + ec.message());
    return there;
  }

  Expected<void> get(const std::string& key, const fs::path& destination) override {
    if (key.empty()) return empty_key();
    const fs::path file = file_of(key);
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
      return Failure::not_found(file.string() + ": no such object (key " + key + ")");
    if (!destination.parent_path().empty()) fs::create_directories(destination.parent_path(), ec);
    return publish(file, destination, 0);
  }

  Expected<void> put(const std::string& key, const fs::path& source) override {
    if (!writable_) return Failure::read_only("cache layer '" + name_ + "' is read-only");
    if (key.empty()) return empty_key();
    std::error_code ec;
    fs::create_directories(root_, ec);
    if (ec) {
      return Failure::error("cannot create " + root_.string() + ": " + ec.message() +
                            "; check the layer's url and permissions");
    }
    return publish(source, file_of(key), mode_);
  }

  Expected<std::vector<sf::CacheObject>> list(const std::string& prefix) override {
    std::vector<sf::CacheObject> out;
    std::error_code ec;
    if (!fs::exists(root_, ec)) return out;  // nothing stored yet
    for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
      const auto key = flat_example::key_of(it->path().filename().string());
      if (!key || key->rfind(prefix, 0) != 0) continue;
      struct stat st {};
      if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      out.push_back({*key, static_cast<std::uint64_t>(st.st_size), st.st_mtim.tv_sec});
    }
    if (ec) return Failure::error("cannot list " + root_.string() + ": " + ec.message());
    return out;
  }

  Expected<void> remove(const std::string& key) override {
    if (!writable_) return Failure::read_only("cache layer '" + name_ + "' is read-only");
    if (key.empty()) return empty_key();
    std::error_code ec;
    if (fs::remove(file_of(key), ec)) return {};
    if (ec) return Failure::error(file_of(key).string() + ": " + ec.message());
    return Failure::not_found(file_of(key).string() + ": no such object (key " + key + ")");
  }

 private:
  fs::path file_of(const std::string& key) const { return root_ / flat_example::file_name_of(key); }
  Failure empty_key() const {
    return Failure::error("cache layer '" + name_ + "' (" + root_.string() +
                          "): refused an empty key");
  }

  std::string name_;
  fs::path root_;
  bool writable_;
  mode_t mode_;
};

// Called once by the host when it loads the plugin. The settings keys listed here are the only
// ones a "flatdir" layer may set; the core refuses others at the config's file:line:column.
void register_plugin(sf::Registry& registry) {
  registry.add_cache_provider_type(
      "flatdir",
      [](const sf::CacheLayerSpec& spec) { return std::make_unique<FlatDirProvider>(spec); },
      sf::CacheProviderInfo{{"file_mode"}});
}

}  // namespace

SLURM_FACTORY_PLUGIN("cache-example", EXAMPLE_PLUGIN_VERSION,
                     "Example out-of-tree cache provider: one flat directory, one file per key",
                     register_plugin)
