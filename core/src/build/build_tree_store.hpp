// Incremental rebuilds (issue 13): the build trees kept between builds of a package.
//
// A recipe marked `incremental: true` (Slurm) leaves its build tree after each successful build
// (the build script moves the unpacked, configured and built sources and the sha256 list of the
// pristine sources to /work/keep/src and /work/keep/source.sha256: a folder of the builder's own,
// so the next build's container can move things out of it) at
//   <cache_dir>/buildtrees/<image hash>/<package>/<series>-<key prefix>/tree/
// beside `key`: the hash of every input of the build but the source (build_tree_key). The next
// build of that package and series on that image whose key is the same (a new patch release, a
// site patch) takes the tree over (renamed into its work folder as prev/); its build script
// replaces only the source files whose content differs (templates/build/common.sh, sf_reuse_tree),
// so make recompiles and relinks only what they touch. The output is the same as a cold build's:
// make's dependency tracking and the compiler cache key on the same inputs.
//
// What the store trusts: nothing in a tree is read by the host. A tree is renamed (never
// followed: a tree that is not a real folder is refused), and removed without following links.
// It is local: never written to a shared cache layer, and neither `rebuild` nor --no-cache uses
// it (a rebuild from scratch is how a site checks that an incremental build was faithful).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "slurm_factory/expected.hpp"

namespace sf {

struct PackageSpec;

// The hash of the build inputs of `spec` other than its source (version, source archive,
// patches), and of the build script templates (`templates_text`: their contents). Two builds
// with the same key configure, build and install the same way over the same dependencies.
std::string build_tree_key(const PackageSpec& spec, const std::string& templates_text);

class BuildTreeStore {
 public:
  // Trees kept per (image, package): one per series and key, the oldest beyond this go.
  static constexpr std::size_t kMaxTreesPerPackage = 4;

  explicit BuildTreeStore(const std::filesystem::path& cache_dir);

  // <cache_dir>/buildtrees/<image hash>/<package>; the image hash is hashed again when it is not
  // plain hex, so the path is always safe.
  std::filesystem::path dir_for(const std::string& image_hash, const std::string& package) const;
  // The slot of one tree in it: <series>-<first 16 digits of the key> ("24.11-3f2a..."), so the
  // builds of several series (or several configurations) of one package on one image each find
  // their own tree.
  std::filesystem::path slot_for(const std::string& image_hash, const std::string& package,
                                 const std::string& version, const std::string& key) const;
  // "24.11.5" -> "24.11": the version without its last part (a safe name, else a hash).
  static std::string series_of(const std::string& version);

  // Moves the tree kept for (image, package, series of `version`) under `key` to `destination`
  // (which must not exist, on the same file system). False when there is none, or another build
  // took it first; the build is then a cold one. A slot that is not usable (a link, half a tree,
  // another key) is removed.
  bool take(const std::string& image_hash, const std::string& package, const std::string& version,
            const std::string& key, const std::filesystem::path& destination) const;

  // Keeps `work`/keep (a successful build's: src/ and source.sha256) as the tree of (image,
  // package, series of `version`) under `key`, replacing the one there, and removes the oldest
  // trees of the package beyond kMaxTreesPerPackage. Each must be a real folder / regular file
  // reached without following a link; otherwise nothing is kept and the error says why.
  Expected<void> keep(const std::string& image_hash, const std::string& package,
                      const std::string& version, const std::string& key,
                      const std::filesystem::path& work) const;

 private:
  static void prune(const std::filesystem::path& dir, const std::filesystem::path& fresh);
  std::filesystem::path root_;
};

}  // namespace sf
