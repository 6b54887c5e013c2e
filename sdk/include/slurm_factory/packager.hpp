// Artifact formats (tarball, deb; later rpm, oci).
//
// The core stages an artifact tree (view/, modules/, data/slurm_assets/) and hands it to each
// packager of the build in turn, the tarball first: each writes its file(s) into output_dir. The
// core then writes <basename>.provenance.json (listing every output with its sha256), SHA256SUMS
// and its signature SHA256SUMS.asc beside them, whatever the packagers. A packager must be
// reproducible: the same tree gives the same bytes (sorted entries, fixed mtimes, numeric owners),
// and it must write atomically (temp file + rename).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sf {

// ABI 3.1: what the staged tree is, for packagers that write OS packages or images.
struct SystemLibraryPackage {
  std::string soname;   // "libpam.so.0", a library the view needs and does not bundle
  std::string package;  // the OS package holding it in the build image ("libpam0g"); "" unknown
  std::string version;  // that package's version in the build image ("1.7.0-5")
};

struct ArtifactDescription {
  std::string slurm_version;     // "24.11.5"
  std::string toolchain;         // "trixie"
  std::string toolchain_family;  // "debian"
  std::string os_name;           // "Debian GNU/Linux 13 (trixie)"
  std::string os_version;        // "13"
  std::string arch;              // Debian's name: "amd64", "arm64"
  std::string base_image;        // the toolchain's base image ("docker.io/library/debian:trixie")
  std::vector<std::string> gpu;  // GPU flavours ("cuda"), empty for CPU only
  // The folder the view was built for ("/opt/slurm": view/ under it); text files of the tree
  // (modulefiles, units, data/slurm_assets/prefix-files.txt's list) name it.
  std::string install_root;
  std::string builder_version;  // slurm-factory's version
  // The libraries the view's programs need from the OS, with the packages holding them in the
  // build image (filled when a packager other than the tarball runs).
  std::vector<SystemLibraryPackage> system_packages;
};

// ABI 3.2: the toolchain's base image with some OS packages added, flattened into one container
// image layer, for packagers that make images (oci). Made by the core with the container engine
// (an image FROM the base the build image is made on, a RUN step installing the packages with
// the release's package manager), cached in the cache folder by what defines it.
struct RootfsLayer {
  std::filesystem::path file;  // the layer: a gzip-compressed tar of the whole filesystem
  std::string diff_id;         // sha256 (hex) of the uncompressed tar
  std::string digest;          // sha256 (hex) of `file`
  std::uint64_t size = 0;      // bytes of `file`
  std::string image;           // the engine image it was flattened from
  std::string base_image;      // the base image that one is made on
};
// `os_packages`: package names of the release's package manager (may be empty). Throws
// ContainerError (the engine) or PackagingError.
using RuntimeRootfsFn = std::function<RootfsLayer(const std::vector<std::string>& os_packages)>;

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
  // ABI 3.1 (a 3.0 packager never reads them).
  ArtifactDescription artifact;
  // The site's signing key, for formats signed by their own tool (rpmsign): its keyring and
  // fingerprint; both empty when the build is unsigned. Key material never passes here.
  std::string signing_home;
  std::string signing_key;
  // ABI 3.2 (a 3.1 packager never reads it): the release's runtime filesystem as an image layer;
  // empty when no container engine can be asked (a packager that needs it says so).
  RuntimeRootfsFn runtime_rootfs;
  // ABI 3.2: for the packagers after the main one, the main artifact (the tarball, which
  // SHA256SUMS and provenance.json name) and its sha256 (hex); empty for the main one.
  std::filesystem::path main_artifact;
  std::string main_artifact_sha256;
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
