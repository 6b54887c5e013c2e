// The checks that make an extraction's writes safe, before libarchive's own
// (ARCHIVE_EXTRACT_SECURE_SYMLINKS, which walks every component of every path again). What the
// extraction has seen is remembered, so each directory is looked at once:
//  - directories known to be real directories inside the destination (made by an entry, created
//    as a parent, or found by lstat), with whether they are new ("fresh": created by this
//    extraction, so only this archive's entries can be in them and nothing needs an lstat);
//  - every non-directory this archive wrote, with its kind (file or symlink).
// An entry is written only when every parent is a known directory (never through a symlink or
// file); directories are never replaced by non-directories; a symlink in the way of an entry is
// removed first by the caller (as SECURE_SYMLINKS does) so no write, chmod or utimes follows it;
// hard links must name a regular file this archive extracted. The top-most new path of each new
// branch is kept, O(entries) in all, for the rollback.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace sf {

// What is already at a path inside the destination.
enum class Existing { None, Dir, Symlink, Other };

class DestinationGuard {
 public:
  // `root_fresh`: the destination was empty when the extraction began.
  DestinationGuard(std::filesystem::path dest, bool root_fresh);

  // Empty when every parent of the clean entry path `clean` is (or will be created as) a real
  // directory inside; else why not.
  std::string check_parents(const std::string& clean);

  // What is at `clean` now (its parents checked), recording it for the rollback when new.
  Existing existing(const std::string& clean);

  // The entry `clean` was written: a directory (`fresh` when it did not exist before) ...
  void wrote_dir(const std::string& clean, bool fresh);
  // ... or a file ('f') or symlink ('l').
  void wrote(const std::string& clean, char kind);
  // Whether `clean` is a regular file this extraction wrote.
  bool is_extracted_file(const std::string& clean) const;

  // Removes everything this extraction created; what was in the destination before stays.
  void rollback() const;

 private:
  Existing probe(const std::string& rel, bool& fresh);

  std::filesystem::path dest_;
  bool root_fresh_;
  std::unordered_map<std::string, bool> dirs_;
  std::unordered_map<std::string, char> made_;
  std::vector<std::filesystem::path> created_;
};

}  // namespace sf
