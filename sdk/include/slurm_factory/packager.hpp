// Artifact formats (tarball; later deb, rpm, oci).
//
// The core stages an artifact tree (view/, modules/, data/slurm_assets/) and hands it to a
// packager, which writes the artifact file(s) into output_dir. The core then writes
// <basename>.provenance.json, SHA256SUMS and its signature SHA256SUMS.asc beside them, whatever the
// packager. A packager must be reproducible: the same tree gives the same bytes (sorted entries,
// fixed mtimes, numeric owners), and it must write atomically (temp file + rename).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sf {

struct PackageInput {
  std::filesystem::path root;  // holds view/, modules/, data/
  std::string basename;        // "slurm-24.11.5-noble-cuda-amd64-software"
  std::filesystem::path output_dir;
  std::int64_t mtime = 0;  // every entry's mtime (SOURCE_DATE_EPOCH style)
  // ABI 1.1, both optional for a packager (one built for 1.0 ignores them and stays correct):
  // on_file, when set, is called once for each regular file packed, with its path relative to
  // root and its whole content, so the core scans the tree without reading it a second time (when
  // it is never called, the core reads the files itself). When main_file_sha256 is set, the
  // packager may store there the sha256 (hex) of files.front() computed while writing it (left
  // empty, the core hashes the file).
  std::function<void(const std::string& relative_path, std::string_view content)> on_file;
  std::string* main_file_sha256 = nullptr;
};

struct PackageOutput {
  std::vector<std::filesystem::path> files;  // the artifact(s) written, first the main one
};

class Packager {
 public:
  virtual ~Packager();
  virtual std::string name() const = 0;
  // File name extension of the main artifact (".tar.zst").
  virtual std::string extension() const = 0;
  // Throws PackagingError naming the file that could not be read or written.
  virtual PackageOutput package(const PackageInput& input) = 0;
};

}  // namespace sf
