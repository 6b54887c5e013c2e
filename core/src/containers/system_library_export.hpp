// Copies shared libraries out of a build image, for the view assembler to bundle: the runtime .so
// files of `from: system` dependencies (libpmix from libpmix-dev, ...) live in the toolchain image,
// not on the host. A hermetic container from the image (network off, unprivileged) looks each
// soname up (ldconfig's cache, then the usual library folders), and copies it and every library
// it loads (its ldd closure), dereferenced, into one folder named by soname. The view assembler
// then reads that folder as its `system_library_dirs` and keeps only what the target host lacks.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "slurm_factory/container_backend.hpp"

namespace sf {

struct SystemLibraryExportRequest {
  std::string image;                 // the toolchain image the view was built in
  std::vector<std::string> sonames;  // "libpmix.so.2", ...
  std::filesystem::path out_dir;     // created; receives lib/<soname> and the log
  std::filesystem::path log_file;    // the container's output
  // A cross build: the target's multiarch triplet ("aarch64-linux-gnu"); the libraries are looked
  // up in its folders only and their closure read with <triplet>-readelf. "" = native (ldd).
  std::string multiarch;
};

struct SystemLibraryExport {
  std::filesystem::path dir;                 // out_dir/lib: one file per soname
  std::map<std::string, std::string> found;  // soname -> its path in the image
  std::vector<std::string> missing;          // requested sonames the image does not have
};

// Shell (POSIX sh, `set -eu`) defining `locate SONAME`, which prints the library's path in the
// image: ldconfig's cache, then the usual folders; with SF_MULTIARCH set, the target's multiarch
// folders only. Shared by the scripts that look libraries up in an image.
extern const char* const kLocateLibraryShell;

// Whether `soname` is a plain library file name ([A-Za-z0-9._+-], no '/'), safe to hand to a shell.
bool is_plain_soname(const std::string& soname);

// Throws ContainerError when the container cannot run (naming the image and the log file),
// UsageError for a soname that is not a plain file name.
SystemLibraryExport export_system_libraries(ContainerBackend& backend,
                                            const SystemLibraryExportRequest& request);

}  // namespace sf
