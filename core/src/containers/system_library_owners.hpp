// Which OS package holds each library a view needs from the system, asked of the build image's
// own package database (dpkg-query, else rpm): what a .deb's Depends and an OS package's
// requirements are made of. A hermetic container from the image (network off, unprivileged)
// looks each soname up as the library export does and asks the package manager who owns it.
// What the container answers is checked on the host (plain names and versions only).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/packager.hpp"

namespace sf {

struct SystemLibraryOwnersRequest {
  std::string image;
  std::vector<std::string> sonames;  // plain sonames ("libpam.so.0")
  std::filesystem::path work_dir;    // created; receives owners.txt and the log
  std::filesystem::path log_file;
  std::string multiarch;  // a cross build's target triplet ("aarch64-linux-gnu"), else ""
};

// One entry per soname, in the order asked; package and version empty when the image has the
// library but no package owns it (or it is missing). Throws ContainerError when the container
// cannot run, UsageError for a soname that is not a plain file name.
std::vector<SystemLibraryPackage> query_system_library_owners(
    ContainerBackend& backend, const SystemLibraryOwnersRequest& request);

// One line of the container's answer, "owner SONAME PACKAGE VERSION" (or "owner SONAME - -"):
// nullopt-like empty soname when the line is malformed or a field has characters a package name or
// version cannot have. Exposed for tests.
SystemLibraryPackage parse_owner_line(const std::string& line);

}  // namespace sf
