#include "artifact/view_assembler.hpp"

#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/process.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "formats/elf_reader.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/host_arch.hpp"
#include "support/safe_walk.hpp"

namespace sf {
namespace fs = std::filesystem;
namespace bp = boost::process;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool same_content(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::file_size(a, ec) != fs::file_size(b, ec)) return false;
  std::ifstream x(a, std::ios::binary), y(b, std::ios::binary);
  std::istreambuf_iterator<char> xi(x), yi(y), end;
  return std::equal(xi, end, yi, end);
}

[[noreturn]] void write_error(const fs::path& dest, const std::error_code& ec) {
  throw PackagingError("cannot write into the view: " + ec.message(), {{"file", dest.string()}},
                       "check free space and permissions of the staging folder");
}

// Puts `src` at `dest`: a hardlink when possible, else a copy. Returns true for a hardlink.
bool link_or_copy(const fs::path& src, const fs::path& dest) {
  std::error_code ec;
  fs::create_hard_link(src, dest, ec);
  if (!ec) return true;
  fs::copy_file(src, dest, fs::copy_options::overwrite_existing, ec);
  if (ec) write_error(dest, ec);
  return false;
}

void set_runpath_origin(const fs::path& lib) {
  const auto patchelf = bp::search_path("patchelf");
  if (patchelf.empty()) {
    throw PackagingError("patchelf is needed to relocate a bundled library",
                         {{"file", lib.string()}},
                         "install patchelf (Debian: apt-get install patchelf)");
  }
  bp::ipstream err;
  const int rc = bp::system(patchelf, "--set-rpath", "$ORIGIN", lib.string(),
                            bp::std_out > bp::null, bp::std_err > err);
  if (rc != 0) {
    std::string msg, line;
    while (std::getline(err, line)) msg += line + " ";
    throw PackagingError("patchelf could not set RUNPATH $ORIGIN: " + msg, {{"file", lib.string()}},
                         "check that the library is a valid ELF file");
  }
}

// Sonames the view provides: file names and SONAMEs of the ELF files (and symlinks) in it.
std::set<std::string> provided_sonames(const fs::path& view) {
  std::set<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(view, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find(".so") == std::string::npos) continue;
    out.insert(name);
    if (fs::is_regular_file(it->symlink_status(ec)) && is_elf_file(it->path())) {
      if (auto info = read_elf(it->path()); info && !info->soname.empty()) out.insert(info->soname);
    }
  }
  return out;
}

// ELF files of the view with dynamic sections, sorted, view-relative.
std::vector<fs::path> elf_files(const fs::path& view) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(view, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_symlink(ec) && it->is_regular_file(ec) && is_elf_file(it->path())) {
      out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

bool is_dev_file(const std::string& rel) {
  if (rel == "include" || rel.rfind("include/", 0) == 0) return true;
  if (ends_with(rel, ".a") || ends_with(rel, ".la")) return true;
  if (ends_with(rel, ".pc") && rel.find("/pkgconfig/") != std::string::npos) return true;
  if (rel == "share/aclocal" || rel.rfind("share/aclocal/", 0) == 0) return true;
  if ((rel.rfind("lib/cmake/", 0) == 0 || rel.rfind("lib64/cmake/", 0) == 0 ||
       rel.rfind("share/cmake/", 0) == 0)) {
    return true;
  }
  return false;
}

bool is_private_file(const std::string& rel, const std::vector<std::string>& public_programs) {
  for (const char* dir : {"bin/", "sbin/"}) {
    const std::string d = dir;
    if (rel.rfind(d, 0) != 0 || rel.size() == d.size()) continue;
    const std::string name = rel.substr(d.size(), rel.find('/', d.size()) - d.size());
    return !matches_any(name, public_programs);
  }
  if (public_programs.empty() && (rel == "share/man" || rel.rfind("share/man/", 0) == 0)) {
    return true;
  }
  return false;
}

bool matches_any(const std::string& soname, const std::vector<std::string>& globs) {
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) {
    return fnmatch(g.c_str(), soname.c_str(), 0) == 0;
  });
}

nlohmann::json ViewAssemblyReport::to_json() const {
  nlohmann::json bundled_json = nlohmann::json::array();
  for (const auto& b : bundled) {
    bundled_json.push_back(
        {{"soname", b.soname}, {"from", b.from.string()}, {"needed_by", b.needed_by}});
  }
  nlohmann::json unresolved_json = nlohmann::json::array();
  for (const auto& u : unresolved) {
    unresolved_json.push_back({{"soname", u.soname}, {"needed_by", u.needed_by}});
  }
  return {{"files", files},
          {"hardlinked", hardlinked},
          {"copied", copied},
          {"dropped", dropped},
          {"private", private_files},
          {"bundled", bundled_json},
          {"system_libraries", skipped_system},
          {"driver_libraries", skipped_driver},
          {"unresolved", unresolved_json}};
}

ViewAssemblyReport assemble_view(const std::vector<ViewEntry>& entries, const fs::path& view,
                                 const ViewAssemblyOptions& options) {
  ViewAssemblyReport report;
  std::error_code ec;
  fs::create_directories(view, ec);
  if (ec) write_error(view, ec);

  // 1. Entries, in the order given; a path two entries ship must hold the same bytes.
  std::map<std::string, std::string> owner;  // view-relative -> entry name
  for (const auto& entry : entries) {
    // The unpacked tree is walked without following a link (the tree itself included).
    auto walked = walk_tree(entry.tree);
    if (!walked) {
      throw PackagingError(
          "an entry's unpacked tree cannot be read: " + walked.error().message,
          {{"package", entry.name + "-" + entry.version}, {"folder", entry.tree.string()}},
          "unpack the cache entry before assembling the view");
    }
    for (const auto& item : *walked) {
      const std::string& rel = item.path;
      const fs::path src = entry.tree / rel;
      const bool is_dir = item.kind == TreeEntryKind::kDirectory;
      const bool is_link = item.kind == TreeEntryKind::kSymlink;
      if (!options.keep_dev && is_dev_file(rel)) {
        if (!is_dir) report.dropped.push_back(rel);
        continue;
      }
      if (is_private_file(rel, entry.public_programs)) {
        if (!is_dir) report.private_files.push_back(rel);
        continue;
      }
      if (item.kind == TreeEntryKind::kOther) {
        throw PackagingError("an entry holds a file that is not a regular file, folder or link",
                             {{"file", rel}, {"package", entry.name + "-" + entry.version}},
                             "check the entry with 'slurm-factory cache verify --deep'");
      }
      const fs::path dest = view / rel;
      // Nothing is written through a link of the view: a folder of this entry that is a link in
      // the view (another package's) is a conflict, never followed.
      const std::string parent = fs::path(rel).parent_path().generic_string();
      if (auto d = open_dir_beneath(view, is_dir ? rel : parent);
          !d && d.error().kind != Failure::Kind::kNotFound) {
        throw PackagingError("two packages disagree on a folder of the view: " + d.error().message,
                             {{"file", rel}, {"package", entry.name + "-" + entry.version}},
                             "make one of the recipes install a real folder there");
      }
      if (is_dir) {
        fs::create_directories(dest, ec);
        if (ec) write_error(dest, ec);
        continue;
      }
      if (auto it = owner.find(rel); it != owner.end()) {
        const auto dest_st = fs::symlink_status(dest);
        const bool same = (is_link || fs::is_symlink(dest_st))
                              ? is_link && fs::is_symlink(dest_st) &&
                                    item.link_target == fs::read_symlink(dest).string()
                              : same_content(src, dest);
        if (same) continue;
        throw PackagingError("two packages ship different files at the same path",
                             {{"file", rel},
                              {"package", it->second},
                              {"other package", entry.name + "-" + entry.version}},
                             "make one of the recipes stop installing the file (or install it "
                             "under another name)");
      }
      owner[rel] = entry.name + "-" + entry.version;
      fs::create_directories(dest.parent_path(), ec);
      if (is_link) {
        fs::create_symlink(item.link_target, dest, ec);
        if (ec) write_error(dest, ec);
      } else if (link_or_copy(src, dest)) {
        ++report.hardlinked;
      } else {
        ++report.copied;
      }
      ++report.files;
    }
  }
  // Directories emptied by dropping dev files (include/, lib/pkgconfig/) go too.
  if (!options.keep_dev) {
    for (const char* d : {"include", "lib/pkgconfig", "lib64/pkgconfig", "share/pkgconfig",
                          "lib/cmake", "lib64/cmake"}) {
      if (fs::is_directory(view / d) && fs::is_empty(view / d)) fs::remove(view / d, ec);
    }
  }

  // 2. Shared libraries the view needs and does not provide.
  std::vector<std::string> driver = options.driver_libraries;
  if (options.bundle_rocm_smi) {
    driver.erase(std::remove(driver.begin(), driver.end(), "librocm_smi64.so*"), driver.end());
  }
  std::set<std::string> provided = provided_sonames(view);
  std::set<std::string> decided;  // sonames already bundled, skipped or reported
  const fs::path bundle_dir = view / options.bundle_subdir;
  // Decides one soname the view needs; returns true when it bundled it (whose NEEDED entries are
  // then read on the next pass).
  auto need = [&](const std::string& soname, const std::string& rel) {
    if (provided.count(soname) != 0 || decided.count(soname) != 0) return false;
    decided.insert(soname);
    if (matches_any(soname, options.system_libraries)) {
      report.skipped_system.push_back(soname);
      return false;
    }
    if (matches_any(soname, driver)) {
      report.skipped_driver.push_back(soname);
      return false;
    }
    fs::path found;
    if (options.bundle_only.empty() || matches_any(soname, options.bundle_only)) {
      for (const auto& dir : options.system_library_dirs) {
        if (fs::exists(dir / soname, ec)) {
          found = dir / soname;
          break;
        }
      }
    }
    if (found.empty()) {
      report.unresolved.push_back({soname, rel});
      return false;
    }
    if (!options.arch.empty()) {
      if (auto lib = read_elf(found); lib) {
        if (const std::string m = elf_arch_mismatch(lib->machine, options.arch); !m.empty()) {
          throw PackagingError("the library " + soname + " that " + rel + " needs is " + m,
                               {{"library", found.string()}, {"needed by", "view/" + rel}},
                               "the build image has no " + options.arch +
                                   " copy of it: install "
                                   "its -dev package for " +
                                   options.arch + " in the image");
        }
      }
    }
    fs::create_directories(bundle_dir, ec);
    const fs::path dest = bundle_dir / soname;
    fs::copy_file(fs::canonical(found), dest, fs::copy_options::overwrite_existing, ec);
    if (ec) write_error(dest, ec);
    fs::permissions(dest,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read,
                    fs::perm_options::replace, ec);
    set_runpath_origin(dest);
    report.bundled.push_back({soname, found, rel});
    provided.insert(soname);
    log().info("bundled {} (needed by {}) from {}", soname, rel, found.string());
    return true;
  };
  for (const auto& d : options.dlopened) (void)need(d.soname, d.package + " (dlopen)");
  bool changed = true;
  while (changed) {  // bundled libraries have NEEDED entries of their own
    changed = false;
    for (const auto& file : elf_files(view)) {
      auto info = read_elf(file);
      if (!info) continue;
      const std::string rel = file.lexically_relative(view).generic_string();
      if (const std::string m = elf_arch_mismatch(info->machine, options.arch); !m.empty()) {
        throw PackagingError("view/" + rel + " is " + m,
                             {{"file", "view/" + rel}, {"arch", options.arch}},
                             "its package was built with a compiler for another architecture: "
                             "read its build log (a recipe that ignores CC or --host)");
      }
      for (const auto& soname : info->needed) {
        if (need(soname, rel)) changed = true;
      }
    }
  }
  std::sort(report.skipped_system.begin(), report.skipped_system.end());
  std::sort(report.skipped_driver.begin(), report.skipped_driver.end());
  return report;
}

}  // namespace sf
