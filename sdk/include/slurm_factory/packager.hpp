// Artifact formats (tarball; later deb, rpm, oci). (Owned by the artifact work: extend it there.)
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sf {

struct PackageInput {
  std::filesystem::path root;  // holds view/, modules/, data/
  std::string basename;        // "slurm-24.11.5-noble-cuda-amd64-software"
  std::filesystem::path output_dir;
};

struct PackageOutput {
  std::vector<std::filesystem::path> files;  // the artifact(s) written
};

class Packager {
 public:
  virtual ~Packager();
  virtual std::string name() const = 0;
  virtual PackageOutput package(const PackageInput& input) = 0;
};

}  // namespace sf
