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
#include <string>
#include <vector>

namespace sf {

struct PackageInput {
  std::filesystem::path root;  // holds view/, modules/, data/
  std::string basename;        // "slurm-24.11.5-noble-cuda-amd64-software"
  std::filesystem::path output_dir;
  std::int64_t mtime = 0;  // every entry's mtime (SOURCE_DATE_EPOCH style)
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
