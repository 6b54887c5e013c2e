// Assembles an artifact's view/ from the runtime entries of a plan (each unpacked under its own
// folder, files relative to the prefix): hardlinks where the filesystem allows (copies otherwise),
// drops development files unless keep_dev and the programs a package does not make public (its
// bin/ and sbin/ files whose names match none of ViewEntry::public_programs, and its share/man when
// it has no public program: the view's bin/ and sbin/ hold only Slurm's and munge's), then bundles
// the shared libraries the view needs that a target host does not have, found by reading ELF NEEDED
// entries (never guessed): every NEEDED soname that no file of the view provides, that is not one
// of the toolchain's system libraries and not a GPU driver library, is copied from the system
// library folders into view/lib and given RUNPATH $ORIGIN (patchelf), like the rest of the view.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sf {

struct ViewEntry {
  std::string name;            // "munge"
  std::string version;         // "0.5.16"
  std::filesystem::path tree;  // the unpacked entry: bin/, lib/, sbin/, ... relative to the prefix
  // Globs on the names of the entry's bin/ and sbin/ programs that go into the view ({"*"}: all;
  // empty: none, and the entry's share/man is left out too). The recipe's public_programs.
  std::vector<std::string> public_programs = {"*"};
};

// A library a package's dependents dlopen at run time (no NEEDED entry names it): the recipe's
// runtime_dlopen. The assembler treats it as needed by "<package> (dlopen)".
struct DlopenedLibrary {
  std::string soname;   // "libpmix.so.2"
  std::string package;  // "pmix": the recipe that declares it
};

struct ViewAssemblyOptions {
  bool keep_dev = false;  // keep include/, *.a, *.la, pkg-config and CMake files
  // Sonames (globs) a host of the target release always has: never bundled
  // (ToolchainRelease::system_libraries).
  std::vector<std::string> system_libraries;
  // GPU driver libraries: never bundled, they come with the driver.
  std::vector<std::string> driver_libraries = {
      "libnvidia-ml.so*",    "libcuda.so*",       "libnvidia-*.so*", "libze_loader.so*",
      "libze_intel_gpu.so*", "librocm_smi64.so*", "libamdhip64.so*", "libhsa-runtime64.so*"};
  // ROCm SMI is bundled only when the rocm feature says so (it then leaves the driver list).
  bool bundle_rocm_smi = false;
  // Where the libraries of `from: system` dependencies are looked up (a build image's
  // /usr/lib/x86_64-linux-gnu, ...). Empty: nothing is bundled, unresolved sonames are reported.
  std::vector<std::filesystem::path> system_library_dirs;
  // When not empty, only sonames matching these globs are bundled (the from: system deps).
  std::vector<std::string> bundle_only;
  std::string bundle_subdir = "lib";  // where bundled libraries go, relative to the view
  // Sonames the view must provide although no NEEDED entry names them (dlopened): bundled like a
  // NEEDED library when no file of the view provides them, with their own NEEDED closure.
  std::vector<DlopenedLibrary> dlopened;
  // The artifact's architecture ("amd64", "arm64"): every ELF file of the view, and every library
  // bundled, must be built for it. "" = not checked.
  std::string arch;
};

struct BundledLibrary {
  std::string soname;
  std::filesystem::path from;  // the file it was copied from
  std::string needed_by;       // view-relative file that first needed it
};

struct UnresolvedLibrary {
  std::string soname;
  std::string needed_by;  // view-relative
};

struct ViewAssemblyReport {
  std::size_t files = 0;
  std::size_t hardlinked = 0;
  std::size_t copied = 0;
  std::vector<std::string> dropped;  // view-relative dev files left out
  // view-relative programs (and man pages) left out because their package does not make them
  // public: "bin/curl"
  std::vector<std::string> private_files;
  std::vector<BundledLibrary> bundled;
  std::vector<std::string> skipped_system;    // sonames left to the host (system libraries)
  std::vector<std::string> skipped_driver;    // sonames left to the GPU driver
  std::vector<UnresolvedLibrary> unresolved;  // found nowhere: verify --deep fails on these

  nlohmann::json to_json() const;
};

// Whether `relative` (a path inside an entry, '/'-separated) is a development file.
bool is_dev_file(const std::string& relative);

// Whether `relative` (a path inside an entry) is a program or man page that a package with these
// public_programs globs keeps out of the view: bin/<name>... or sbin/<name>... whose <name>
// matches none of them, or share/man/... when the list is empty.
bool is_private_file(const std::string& relative, const std::vector<std::string>& public_programs);

// Whether `soname` matches one of `globs` (fnmatch).
bool matches_any(const std::string& soname, const std::vector<std::string>& globs);

// Assembles `view` (created; must not exist or be empty). Throws PackagingError when two entries
// ship different files at the same path (naming both), a file cannot be written, or an ELF file
// is not of options.arch (naming it).
ViewAssemblyReport assemble_view(const std::vector<ViewEntry>& entries,
                                 const std::filesystem::path& view,
                                 const ViewAssemblyOptions& options);

}  // namespace sf
