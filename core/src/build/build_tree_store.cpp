#include "build/build_tree_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include "recipes/package_hash.hpp"
#include "recipes/planner.hpp"
#include "slurm_factory/digest.hpp"

namespace sf {

namespace fs = std::filesystem;

std::string build_tree_key(const PackageSpec& spec, const std::string& templates_text) {
  nlohmann::json d = canonical_description(spec);
  // What a new patch release or a site patch changes: the tree stays valid across them.
  d.erase("version");
  d.erase("source_sha256");
  d.erase("patches");
  d["build_templates"] = sha256_hex(templates_text);
  d["slurm_factory"] = SF_VERSION;
  return package_hash(d);
}

namespace {

bool plain_hex(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// An exclusive flock on <dir>/.lock for as long as it lives (take and keep of one package).
class DirLock {
 public:
  explicit DirLock(const fs::path& dir) {
    fd_ = ::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// The key file's text when it is a small regular file (not a link); "" otherwise.
std::string read_key(const fs::path& file) {
  std::error_code ec;
  const auto st = fs::symlink_status(file, ec);
  if (ec || !fs::is_regular_file(st) || fs::file_size(file, ec) > 256 || ec) return "";
  std::ifstream in(file);
  std::string key;
  std::getline(in, key);
  return key;
}

bool real_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(fs::symlink_status(p, ec)) && !ec;
}

bool real_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(fs::symlink_status(p, ec)) && !ec;
}

}  // namespace

BuildTreeStore::BuildTreeStore(const fs::path& cache_dir) : root_(cache_dir / "buildtrees") {}

fs::path BuildTreeStore::dir_for(const std::string& image_hash, const std::string& package) const {
  return root_ / (plain_hex(image_hash) ? image_hash : sha256_hex(image_hash)) / package;
}

std::string BuildTreeStore::series_of(const std::string& version) {
  const auto dot = version.rfind('.');
  std::string series = dot == std::string::npos ? version : version.substr(0, dot);
  const bool safe = !series.empty() && series.size() <= 32 && series.front() != '.' &&
                    std::all_of(series.begin(), series.end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                             c == '+' || c == '-';
                    });
  return safe ? series : sha256_hex(series).substr(0, 16);
}

fs::path BuildTreeStore::slot_for(const std::string& image_hash, const std::string& package,
                                  const std::string& version, const std::string& key) const {
  return dir_for(image_hash, package) /
         (series_of(version) + "-" + (plain_hex(key) ? key : sha256_hex(key)).substr(0, 16));
}

bool BuildTreeStore::take(const std::string& image_hash, const std::string& package,
                          const std::string& version, const std::string& key,
                          const fs::path& destination) const {
  const fs::path dir = dir_for(image_hash, package);
  if (key.empty() || !real_dir(dir)) return false;
  DirLock lock(dir);
  if (!lock.held()) return false;
  const fs::path slot = slot_for(image_hash, package, version, key);
  if (!real_dir(slot)) return false;
  std::error_code ec;
  const fs::path tree = slot / "tree";
  const bool usable = read_key(slot / "key") == key && real_dir(tree) && real_dir(tree / "src") &&
                      real_file(tree / "source.sha256");
  if (usable) fs::rename(tree, destination, ec);
  // Taken, or not usable (another key with the same prefix, a link, half a tree): the slot goes;
  // never followed (remove_all removes a link, not what it points to).
  fs::remove_all(slot, ec);
  return usable && !fs::exists(tree) && real_dir(destination);
}

Expected<void> BuildTreeStore::keep(const std::string& image_hash, const std::string& package,
                                    const std::string& version, const std::string& key,
                                    const fs::path& work) const {
  const fs::path kept = work / "keep";
  if (!real_dir(kept) || !real_dir(kept / "src") || !real_file(kept / "source.sha256")) {
    return Failure::error("the build left no tree to keep at " + kept.string() +
                          " (a folder holding src/ and source.sha256, no link)");
  }
  const fs::path dir = dir_for(image_hash, package);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !real_dir(dir)) {
    return Failure::error("cannot create " + dir.string() + ": " + ec.message());
  }
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  DirLock lock(dir);
  if (!lock.held()) return Failure::error("cannot lock " + (dir / ".lock").string());
  const fs::path slot = slot_for(image_hash, package, version, key);
  fs::remove_all(slot, ec);
  fs::create_directory(slot, ec);
  if (ec) return Failure::error("cannot create " + slot.string() + ": " + ec.message());
  fs::rename(kept, slot / "tree", ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove_all(slot, ec);
    return Failure::error("cannot move " + kept.string() + " to " + (slot / "tree").string() +
                          ": " + why);
  }
  {
    std::ofstream out(slot / "key", std::ios::trunc);
    out << key << "\n";
    if (!out) {
      fs::remove_all(slot, ec);
      return Failure::error("cannot write " + (slot / "key").string());
    }
  }
  prune(dir, slot);
  return {};
}

// At most kMaxTreesPerPackage slots per (image, package): the ones kept longest ago go. `fresh`
// (just kept) always stays. Only real folders are looked at; nothing is followed.
void BuildTreeStore::prune(const fs::path& dir, const fs::path& fresh) {
  std::vector<std::pair<fs::file_time_type, fs::path>> slots;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path p = it->path();
    if (p == fresh || p.filename().string().front() == '.' || !real_dir(p)) continue;
    std::error_code tec;
    auto t = fs::last_write_time(p / "key", tec);
    if (tec) t = fs::file_time_type::min();
    slots.emplace_back(t, p);
  }
  std::sort(slots.begin(), slots.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = kMaxTreesPerPackage - 1; i < slots.size(); ++i) {
    std::error_code rec;
    fs::remove_all(slots[i].second, rec);
  }
}

}  // namespace sf
