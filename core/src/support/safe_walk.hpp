// Reading, from the host, a tree that something hostile wrote (a build container's work folder):
// nothing here follows a symlink. Directories are opened one component at a time with
// O_NOFOLLOW|O_DIRECTORY below a base folder the host made itself, entries are told apart with
// fstatat(AT_SYMLINK_NOFOLLOW), a file is opened with O_NOFOLLOW|O_NONBLOCK and checked with fstat
// to be a regular file (never a FIFO or a device), and every read has a size cap. A symlink is
// listed with its target as stored, never resolved.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf {

enum class TreeEntryKind { kFile, kDirectory, kSymlink, kOther };

struct TreeEntry {
  std::string path;  // relative to the walked root, '/' separated
  TreeEntryKind kind = TreeEntryKind::kOther;
  std::uint32_t mode = 0;   // permission bits (lstat)
  std::uint64_t size = 0;   // regular files
  std::string link_target;  // symlinks: the target as stored
};

// A file descriptor, closed with the object.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// The directory `base`/`relative` ("" or "." = base), opened without following a symlink at any
// component of `relative` (`base` is the host's own folder, opened as given). The Failure names the
// first component (relative to `base`) that is a symlink (with its target) or not a directory;
// its kind is kNotFound when a component does not exist.
Expected<UniqueFd> open_dir_beneath(const std::filesystem::path& base, const std::string& relative);

// Every entry below `root` (not `root` itself), sorted by path: directories are entered, symlinks
// listed and never followed. `root` must be a directory, not a symlink to one. Deeper than 256
// levels is refused.
Expected<std::vector<TreeEntry>> walk_tree(const std::filesystem::path& root);
// The same for `base`/`relative`, opened with open_dir_beneath.
Expected<std::vector<TreeEntry>> walk_tree_beneath(const std::filesystem::path& base,
                                                   const std::string& relative);

// The content of the regular file `base`/`relative` (no symlink followed on the way, the file
// itself not a symlink, a FIFO or a device). Failure when it is larger than `max_bytes`, kNotFound
// when it does not exist.
Expected<std::string> read_file_beneath(const std::filesystem::path& base,
                                        const std::string& relative, std::uint64_t max_bytes);

struct CopiedFile {
  std::uint64_t bytes = 0;
  bool truncated = false;  // the file was larger than the cap: the rest was not copied
};
// Copies the regular file `base`/`relative` (opened as read_file_beneath does) to `dest` (the
// host's own path, replaced), at most `max_bytes` of it.
Expected<CopiedFile> copy_file_beneath(const std::filesystem::path& base,
                                       const std::string& relative,
                                       const std::filesystem::path& dest, std::uint64_t max_bytes);

// Removes the file or symlink `base`/`relative` (never a directory, never through a symlink):
// unlinkat in its parent, opened with open_dir_beneath. kNotFound when it is not there.
Expected<void> remove_file_beneath(const std::filesystem::path& base, const std::string& relative);

// Makes the symlink `base`/`relative` point to `target` (a new link renamed over the old one, in
// its parent opened with open_dir_beneath). The entry there must be a symlink.
Expected<void> replace_symlink_beneath(const std::filesystem::path& base,
                                       const std::string& relative, const std::string& target);

// `text` fit for a message: control characters and bytes above 0x7e as \xNN, at most 200
// characters (then "...").
std::string printable(const std::string& text);

}  // namespace sf
