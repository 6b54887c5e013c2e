// Build-prefix strings compiled into a view (docs/relocation.md). RUNPATH is not the only place a
// build prefix hides: slurmd embeds <sbindir>/slurmstepd, the pmi2 plugin <prefix>/bin/srun,
// scripts and libtool files name the prefix in text. This scans every file of a view for strings
// naming the build prefix, says for each how it is made to work under the install prefix, and lists
// the text files slurm_install.sh --prefix must rewrite.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sf {

struct PackageSpec;

// Compiled-in paths that a recipe patch of the plan makes fall back to a location relative to the
// running executable (or library) when the compiled-in one does not exist: the path relative to
// the build prefix ("lib/slurm", "sbin", "bin/srun") -> the patch ("patches/x.patch").
using RelocationFallbacks = std::map<std::string, std::string>;

// The `relocates` of every patch the plan applies (PatchRef::relocates).
RelocationFallbacks relocation_fallbacks(const std::vector<PackageSpec>& packages);

struct CompiledPath {
  std::string file;  // relative to the view: "sbin/slurmd"
  std::uint64_t offset = 0;
  std::string value;    // the whole string: "/opt/slurm/view/sbin/slurmstepd"
  std::string section;  // ELF section (".rodata"), "" for non-ELF files
  bool elf = false;
  bool loaded = true;  // false when the ELF section is not loaded at run time (.debug_*, .comment)
  // How it works under another prefix ("slurmd -d <prefix>/sbin/slurmstepd in units and
  // slurm_install.sh", "text: rewritten by slurm_install.sh --prefix", "debug info only").
  std::string handling;
  bool handled = false;  // false: nothing makes it follow the install prefix (reported)
};

// Which files a scan reads: all, only the non-ELF (text) files, or only the ELF files. Packaging
// scans the text files first (slurm_install.sh's prefix-files.txt goes into the archive) and the
// ELF files while the archive is written.
enum class ScanScope { kAll, kTextFiles, kElfFiles };

// Scans every regular file under `view` (of `scope`) for strings containing `build_prefix` (e.g.
// "/opt/slurm/view"). Sorted by file, then offset.
// `fallbacks`: the plan's relocation patches (classify_compiled_path).
std::vector<CompiledPath> scan_compiled_paths(const std::filesystem::path& view,
                                              const std::string& build_prefix,
                                              ScanScope scope = ScanScope::kAll,
                                              const RelocationFallbacks& fallbacks = {});

// The same scan fed with file contents as something else reads them (the packager, while it
// archives the staged tree): add() takes a file's path relative to the staged root and its whole
// content; only ELF files under "view/" are kept (the text files are scanned before packaging).
// Called from one thread at a time.
class CompiledPathCollector {
 public:
  CompiledPathCollector(std::filesystem::path view, std::string build_prefix,
                        RelocationFallbacks fallbacks = {});
  void add(const std::string& root_relative, std::string_view content);
  // Whether add() was called at all (a packager that does not hand files over never calls it).
  bool fed() const { return fed_; }
  // The paths found, sorted by file, then offset.
  std::vector<CompiledPath> result() const;

 private:
  std::filesystem::path view_;
  std::string build_prefix_;
  RelocationFallbacks fallbacks_;
  bool fed_ = false;
  std::vector<CompiledPath> found_;
};

// How a string found in `file` is handled (the rules of docs/relocation.md); sets handling/handled.
// A string that is exactly <build_prefix>/<P> for a P in `fallbacks` is handled by that patch (the
// program falls back relative to itself); without such a patch the flag or setting our units and
// install script pass is named, and a string nothing covers stays unhandled.
void classify_compiled_path(CompiledPath& path, const std::string& build_prefix,
                            const RelocationFallbacks& fallbacks = {});

// View-relative text files (non-ELF) that name the prefix: slurm_install.sh rewrites them.
std::vector<std::string> text_files_naming_prefix(const std::vector<CompiledPath>& paths);

// For provenance.json: [{file, offset, value, section, handling, handled}, ...].
nlohmann::json compiled_paths_json(const std::vector<CompiledPath>& paths);

}  // namespace sf
