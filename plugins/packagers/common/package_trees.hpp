// The staged artifact tree split into one folder per package (package_layout.hpp), each the root
// ("/") of its package with the tree under the install root: what the deb and rpm packagers pack.
// Files are hard-linked (copied across filesystems); text files that name the build's root get
// the install root instead (the modulefiles, the units, what data/slurm_assets/prefix-files.txt
// lists) and data/slurm_assets/installed-prefix records it; shared libraries get the mode the
// format wants (Debian 0644, RPM 0755: a copy, so the staged tree stays as built); "./x" symlink
// targets become "x"; no device, FIFO or socket is taken; a name with a control character is
// refused (package file lists are line based). The folders are removed with the object.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "package_layout.hpp"
#include "slurm_factory/packager.hpp"

namespace sf::pkg {

struct PackageTree {
  std::filesystem::path root;  // the package's "/"
  std::uint64_t bytes = 0;     // of its regular files
  std::size_t tree_files = 0;  // entries from the artifact tree (a package with none is skipped)
};

// The mode of shared libraries in a package: Debian's 0644 (dh_fixperms), RPM's 0755.
enum class LibraryMode { kNotExecutable, kExecutable };

class PackageTrees {
 public:
  // Stages `input.root` under `install_root` in a private folder of `input.output_dir` (named
  // ".sf-tmp-<pid>-<packager>-XXXXXX", so a killed run's folder is cleaned like any temp).
  // Throws PackagingError naming the packager and the file.
  PackageTrees(const PackageInput& input, const std::string& install_root,
               const std::string& packager, LibraryMode libraries);
  ~PackageTrees();
  PackageTrees(const PackageTrees&) = delete;
  PackageTrees& operator=(const PackageTrees&) = delete;

  PackageTree& tree(Role role) { return trees_.at(role); }
  // Scratch space beside the trees (for the packager's own files).
  const std::filesystem::path& work() const { return work_; }
  const std::string& build_root() const { return build_root_; }
  const std::string& install_root() const { return install_root_; }
  bool with_dev() const { return with_dev_; }

 private:
  std::filesystem::path work_;
  std::map<Role, PackageTree> trees_;
  std::string build_root_;
  std::string install_root_;
  bool with_dev_ = false;
};

// Writes `text` to `path` (folders made) with `mode`; PackagingError naming the file otherwise.
void write_package_file(const std::filesystem::path& path, const std::string& text,
                        std::filesystem::perms mode, const std::string& packager);
std::string read_text_file(const std::filesystem::path& path);
// Every occurrence of `from` as a path (followed by '/', a quote, white space or the end).
std::string replace_root(std::string text, const std::string& from, const std::string& to);

// The time every packaged file gets: the tree's own (SOURCE_DATE_EPOCH) when later than
// 2000-01-01, else that day (Debian's tools call a file older than 1975 "ancient").
std::int64_t package_mtime(std::int64_t tree_mtime);

}  // namespace sf::pkg
