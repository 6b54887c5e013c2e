// Relocation of a staged tree (the contents of the canonical prefix, as `make DESTDIR=... install`
// left them): every dynamic ELF file's RUNPATH becomes $ORIGIN-relative paths that reach the
// prefix's lib and lib/slurm, libtool .la files go, and debug info moves into a separate optional
// tree (<file>.debug, linked with .gnu_debuglink). The host decides (libelf, elf_reader.hpp); the
// build image executes (patchelf, objcopy: relocation_script); the host checks the result.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "slurm_factory/expected.hpp"

namespace sf {

// The library directories every relocated ELF must reach, relative to the prefix.
inline const std::vector<std::string>& default_library_dirs() {
  static const std::vector<std::string> dirs{"lib", "lib/slurm"};
  return dirs;
}

// The RUNPATH for an ELF file in `dir` (relative to the prefix, "" = the prefix itself):
// "bin" -> "$ORIGIN/../lib:$ORIGIN/../lib/slurm", "lib/slurm" -> "$ORIGIN/..:$ORIGIN".
std::string relocated_runpath(
    const std::string& dir, const std::vector<std::string>& library_dirs = default_library_dirs());

struct RelocationItem {
  std::string path;          // relative to the tree, '/' separated
  std::string runpath;       // the RUNPATH to set
  bool split_debug = false;  // has .debug_* sections to move into the debug tree
};

struct RelocationPlan {
  std::vector<RelocationItem> elf_files;      // dynamic ELF executables and libraries
  std::vector<std::string> libtool_archives;  // *.la, relative to the tree
};

// Walks `tree` (never following a symlink, `tree` itself included: a tree that is a symlink is a
// Failure naming it; static executables, objects and non-ELF files are left alone). Failure names
// the file that could not be read.
Expected<RelocationPlan> plan_relocation(
    const std::filesystem::path& tree,
    const std::vector<std::string>& library_dirs = default_library_dirs());

// The POSIX shell script that applies `plan` inside the build image: the tree is at `tree` and the
// debug files go under `debug_tree` (same relative paths plus ".debug"). `objcopy`: the binutils
// program that reads the files' architecture ("aarch64-linux-gnu-objcopy" in a cross build).
std::string relocation_script(const RelocationPlan& plan, const std::string& tree,
                              const std::string& debug_tree,
                              const std::string& objcopy = "objcopy");

// Removes the plan's libtool archives from `tree`, never through a symlink (a path whose folder is
// a link, or a `tree` that is one, is left alone). Returns how many were removed.
std::size_t remove_libtool_archives(const std::filesystem::path& tree, const RelocationPlan& plan);

struct StagedLinks {
  std::vector<std::string>
      rewritten;  // "lib/libfoo.so: /opt/slurm/view/lib/libfoo.so.1 -> libfoo.so.1"
  std::vector<std::string> refused;  // "lib/host -> /etc": leaves the tree
};

// Settles the symlinks of a staged tree (`tree` holds the contents of `prefix`) before the host
// reads it; nothing is followed. A link that stays in the tree (lib/libfoo.so -> libfoo.so.1) is
// kept; an absolute link into `prefix` (/opt/slurm/view/lib/libfoo.so.1) is made the relative link
// to the same place, so the tree stays relocatable; any other link (absolute elsewhere, climbing
// out of the tree, or leaving it once the tree's own links on the way are resolved) is refused.
// When a link is refused nothing is changed. Failure when the tree cannot be read.
Expected<StagedLinks> settle_staged_links(const std::filesystem::path& tree,
                                          const std::string& prefix);

// Every problem with a relocated tree, one line each ("bin/x: RUNPATH /opt/... is not
// $ORIGIN-relative", "lib/libfoo.la: libtool archive left"); empty when it is relocatable.
std::vector<std::string> check_relocation(const std::filesystem::path& tree);

}  // namespace sf
