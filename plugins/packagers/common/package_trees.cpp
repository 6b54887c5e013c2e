#include "package_trees.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf::pkg {

namespace {

[[noreturn]] void fail(const std::string& packager, const std::string& what,
                       const fs::path& where) {
  throw PackagingError(what, {{"packager", packager}, {"file", where.string()}},
                       "check free space and permissions of the output folder");
}

bool is_shared_library(const std::string& rel) {
  const auto name = fs::path(rel).filename().string();
  return rel.rfind("view/lib/", 0) == 0 && name.size() > 3 &&
         (name.ends_with(".so") || name.find(".so.") != std::string::npos);
}

// The relative paths of the tree's text files that name the build root: the modulefiles, the
// units and the files data/slurm_assets/prefix-files.txt lists (what slurm_install.sh --prefix
// rewrites).
std::set<std::string> files_naming_root(const fs::path& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (const char* dir : {"modules/slurm", "data/slurm_assets/defaults"}) {
    for (const auto& e : fs::directory_iterator(root / dir, ec)) {
      if (e.is_regular_file() && !e.is_symlink()) {
        out.insert((fs::path(dir) / e.path().filename()).generic_string());
      }
    }
  }
  std::ifstream list(root / "data/slurm_assets/prefix-files.txt");
  std::string line;
  while (std::getline(list, line)) {
    if (line.empty() || line.front() == '/' || line.find("..") != std::string::npos) continue;
    out.insert("view/" + line);
  }
  return out;
}

}  // namespace

void write_package_file(const fs::path& path, const std::string& text, fs::perms mode,
                        const std::string& packager) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream o(path, std::ios::binary | std::ios::trunc);
  o << text;
  o.close();
  if (!o) fail(packager, "cannot write", path);
  fs::permissions(path, mode, ec);
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_root(std::string text, const std::string& from, const std::string& to) {
  std::size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    const std::size_t end = pos + from.size();
    const char next = end < text.size() ? text[end] : '\n';
    if (next == '/' || next == '"' || next == '\'' ||
        std::isspace(static_cast<unsigned char>(next))) {
      text.replace(pos, from.size(), to);
      pos += to.size();
    } else {
      pos = end;
    }
  }
  return text;
}

std::int64_t package_mtime(std::int64_t tree_mtime) {
  constexpr std::int64_t kFloor = 946684800;
  return tree_mtime > kFloor ? tree_mtime : kFloor;
}

PackageTrees::PackageTrees(const PackageInput& input, const std::string& install_root,
                           const std::string& packager, LibraryMode libraries) {
  const ArtifactDescription& a = input.artifact;
  for (const char* required : {"view", "modules", "data"}) {
    if (!fs::is_directory(input.root / required)) {
      fail(packager, "the staged tree has no folder", input.root / required);
    }
  }
  build_root_ = a.install_root.empty() ? "/opt/slurm" : a.install_root;
  install_root_ = install_root.empty() ? build_root_ : install_root;
  with_dev_ = fs::is_directory(input.root / "view/include");
  std::error_code ec;
  fs::create_directories(input.output_dir, ec);
  std::string tmpl = (fs::absolute(input.output_dir) /
                      (".sf-tmp-" + std::to_string(::getpid()) + "-" + packager + "-XXXXXX"))
                         .string();
  if (::mkdtemp(tmpl.data()) == nullptr) fail(packager, "cannot create a work folder", tmpl);
  work_ = tmpl;
  try {
    // Text files that name the build root get the install root instead (copied, not linked).
    std::set<std::string> rewrite;
    if (install_root_ != build_root_) rewrite = files_naming_root(input.root);
    for (Role r : all_roles()) trees_[r].root = work_ / role_name(r) / "root";
    const fs::path base = fs::path(install_root_).relative_path();
    for (auto it = fs::recursive_directory_iterator(input.root);
         it != fs::recursive_directory_iterator(); ++it) {
      const fs::path rel = it->path().lexically_relative(input.root);
      const std::string rels = rel.generic_string();
      if (std::any_of(rels.begin(), rels.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        throw PackagingError("a file name in the view has a control character",
                             {{"packager", packager}, {"file", rel.string()}},
                             "rename or drop the file in its recipe and build again");
      }
      const auto status = it->symlink_status();
      if (fs::is_directory(status)) continue;  // folders are made for what they hold
      PackageTree& t = trees_[role_of(rels, with_dev_)];
      const fs::path dest = t.root / base / rel;
      fs::create_directories(dest.parent_path(), ec);
      if (fs::is_symlink(status)) {
        // "./x" and "x" name the same file; the package tools want the plain one.
        std::string target = fs::read_symlink(it->path()).string();
        while (target.rfind("./", 0) == 0) target.erase(0, 2);
        fs::create_symlink(target, dest, ec);
      } else if (fs::is_regular_file(status)) {
        const fs::perms mode = fs::status(it->path()).permissions();
        if (rewrite.count(rels) != 0) {
          write_package_file(dest,
                             replace_root(read_text_file(it->path()), build_root_, install_root_),
                             mode, packager);
        } else if (is_shared_library(rels) && ((mode & fs::perms::owner_exec) != fs::perms::none) !=
                                                  (libraries == LibraryMode::kExecutable)) {
          // A copy with the format's mode, so the staged tree stays as built.
          fs::copy_file(it->path(), dest, ec);
          fs::permissions(dest, fs::perms(libraries == LibraryMode::kExecutable ? 0755 : 0644), ec);
        } else {
          fs::create_hard_link(it->path(), dest, ec);
          if (ec) {
            ec.clear();
            fs::copy_file(it->path(), dest, ec);
          }
        }
        t.bytes += fs::file_size(it->path(), ec);
      } else {
        continue;  // no device, FIFO or socket goes into a package
      }
      if (ec) fail(packager, "cannot stage " + rels + ": " + ec.message(), dest);
      ++t.tree_files;
    }
    if (install_root_ != build_root_) {
      // slurm_install.sh --prefix reads where the text files point from this marker.
      write_package_file(trees_[Role::kCommon].root / base / "data/slurm_assets/installed-prefix",
                         install_root_ + "\n", fs::perms(0644), packager);
    }
  } catch (...) {
    fs::remove_all(work_, ec);
    throw;
  }
}

PackageTrees::~PackageTrees() {
  std::error_code ec;
  fs::remove_all(work_, ec);
}

}  // namespace sf::pkg
