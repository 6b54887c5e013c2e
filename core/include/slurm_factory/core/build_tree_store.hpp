// Incremental rebuilds (issue 13): the build trees kept between builds of a package.
//
// A recipe marked `incremental: true` (Slurm) leaves its build tree after each successful build
// (the build script moves the unpacked, configured and built sources and the sha256 list of the
// pristine sources to /work/keep/src and /work/keep/source.sha256: a folder of the builder's own,
// so the next build's container can move things out of it) at
//   <cache_dir>/buildtrees/<image hash>/<package>/tree/
// beside `key`: the hash of every input of the build but the source (build_tree_key). The next
// build of that package on that image whose key is the same (a new patch release, a site patch)
// takes the tree over (renamed into its work folder as prev/); its build script replaces only the
// source files whose content differs (templates/build/common.sh, sf_reuse_tree), so make
// recompiles and relinks only what they touch. The output is the same as a cold build's: make's
// dependency tracking and the compiler cache key on the same inputs.
//
// What the store trusts: nothing in a tree is read by the host. A tree is renamed (never
// followed: a tree that is not a real folder is refused), and removed without following links.
// It is local: never written to a shared cache layer, and neither `rebuild` nor --no-cache uses
// it (a rebuild from scratch is how a site checks that an incremental build was faithful).
#pragma once

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
  explicit BuildTreeStore(const std::filesystem::path& cache_dir);

  // <cache_dir>/buildtrees/<image hash>/<package>; the image hash is hashed again when it is not
  // plain hex, so the path is always safe.
  std::filesystem::path dir_for(const std::string& image_hash, const std::string& package) const;

  // Moves the kept tree of (image, package) to `destination` (which must not exist, on the same
  // file system) when its key is `key`. False when there is none, its key differs (the stale
  // tree is removed), or another build took it first; the build is then a cold one.
  bool take(const std::string& image_hash, const std::string& package, const std::string& key,
            const std::filesystem::path& destination) const;

  // Keeps `work`/keep (a successful build's: src/ and source.sha256) as the tree of (image,
  // package) under `key`, replacing the one there. Each must be a real folder / regular file
  // reached without following a link; otherwise nothing is kept and the error says why.
  Expected<void> keep(const std::string& image_hash, const std::string& package,
                      const std::string& key, const std::filesystem::path& work) const;

 private:
  std::filesystem::path root_;
};

}  // namespace sf
