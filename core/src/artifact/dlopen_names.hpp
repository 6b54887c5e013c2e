// Library names plugins pass to dlopen, found in the built plugins (never assumed), and the view
// made to carry each library under exactly that name. Slurm 22.05's mpi_pmix plugin dlopens
// "libpmix.so" while 24.11's dlopens "libpmix.so.2": the strings are read from each plugin's
// .rodata (libelf), and a name that no file of the view carries but that names a library the view
// provides (a recipe's, or one bundled because a recipe declares it runtime_dlopen) gets a
// relative symlink in view/lib to the real file (libpmix.so -> libpmix.so.2).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/view_assembler.hpp"
#include "slurm_factory/expected.hpp"

namespace sf {

// Whether `s` looks like a library file name dlopen is given: "lib<name>.so" or
// "lib<name>.so.<N>[.<N>...]" (no folder, no other text).
bool is_library_file_name(std::string_view s);

// The library names (is_library_file_name) among the whole NUL-terminated strings of the file's
// .rodata sections, sorted and unique. Failure (naming the file) when it is not ELF.
Expected<std::vector<std::string>> read_dlopen_names(const std::filesystem::path& elf);

struct DlopenName {
  std::string plugin;   // view-relative file that names it: "lib/slurm/mpi_pmix_v4.so"
  std::string name;     // the string it passes to dlopen: "libpmix.so"
  std::string target;   // view-relative real file it resolves to: "lib/libpmix.so.2"
  std::string package;  // the runtime_dlopen recipe of that library ("pmix"), else ""
  bool linked = false;  // true: the symlink was made here; false: the view had the name already
};

struct DlopenNameReport {
  std::vector<DlopenName> names;  // in plugin, then name order
  nlohmann::json to_json() const;
};

struct DlopenNameOptions {
  std::string plugin_subdir = "lib/slurm";  // the plugins read, relative to the view
  std::string lib_subdir = "lib";           // where the libraries and the links are
  // What recipes declare as dlopened (runtime_dlopen): attributes a name to its package.
  std::vector<DlopenedLibrary> declared;
};

// Reads every plugin (regular ELF file directly in plugin_subdir) and makes each library name it
// carries that belongs to a library of lib_subdir resolve there: kept when a file of that name is
// in lib_subdir or plugin_subdir, else a relative symlink lib_subdir/<name> -> the real file of the
// library with the same stem whose version the name's version is a prefix of ("libpmix.so" ->
// "libpmix.so.2.0.7"; "libpmix.so.2" never -> "libpmix.so.3"). Names of libraries the view does
// not carry (GPU driver libraries, optional ones) are left alone. Throws PackagingError, naming
// the plugin, the names and the versions the view has, when a plugin asks for a library of the
// view only in versions the view does not have (a plugin may try several names for one library:
// one that resolves is enough).
DlopenNameReport provide_dlopen_names(const std::filesystem::path& view,
                                      const DlopenNameOptions& options);

}  // namespace sf
