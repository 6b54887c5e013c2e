#include "slurm_factory/core/build_tree_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "slurm_factory/core/package_hash.hpp"
#include "slurm_factory/core/planner.hpp"

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

bool BuildTreeStore::take(const std::string& image_hash, const std::string& package,
                          const std::string& key, const fs::path& destination) const {
  const fs::path dir = dir_for(image_hash, package);
  if (!real_dir(dir)) return false;
  DirLock lock(dir);
  if (!lock.held()) return false;
  std::error_code ec;
  const fs::path tree = dir / "tree";
  if (read_key(dir / "key") != key || key.empty()) {
    fs::remove_all(tree, ec);  // stale: other inputs; never followed (remove_all removes links)
    fs::remove(dir / "key", ec);
    return false;
  }
  if (!real_dir(tree) || !real_dir(tree / "src") || !real_file(tree / "source.sha256")) {
    fs::remove_all(tree, ec);
    fs::remove(dir / "key", ec);
    return false;
  }
  fs::rename(tree, destination, ec);
  if (ec) return false;
  fs::remove(dir / "key", ec);
  return true;
}

Expected<void> BuildTreeStore::keep(const std::string& image_hash, const std::string& package,
                                    const std::string& key, const fs::path& work) const {
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
  fs::remove(dir / "key", ec);
  fs::remove_all(dir / "tree", ec);
  fs::rename(kept, dir / "tree", ec);
  if (ec) {
    return Failure::error("cannot move " + kept.string() + " to " + (dir / "tree").string() + ": " +
                          ec.message());
  }
  const fs::path key_tmp = dir / ".key.tmp";
  {
    std::ofstream out(key_tmp, std::ios::trunc);
    out << key << "\n";
    if (!out) return Failure::error("cannot write " + key_tmp.string());
  }
  fs::rename(key_tmp, dir / "key", ec);
  if (ec) return Failure::error("cannot write " + (dir / "key").string() + ": " + ec.message());
  return {};
}

}  // namespace sf
