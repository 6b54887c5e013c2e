// The compiler cache folders of toolchain images that no longer exist (build.ccache keeps one per
// image hash: <cache_dir>/ccache/<image hash>). `slurm-factory clean --full` removes them after
// the images: a folder whose hash starts no tag of a remaining toolchain image is only disk space
// (a later image with that definition starts a new one; ccache never needs it to be correct).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sf {

struct CcachePruneReport {
  std::vector<std::filesystem::path> removed;  // (or that would be, with dry_run)
  std::vector<std::string> failures;           // "path: why"
};

// Removes every <cache_dir>/ccache/<64 hex> folder whose name does not start with the hash part
// (after the last ':') of one of `live_tags` ("slurm-factory/toolchain-trixie:d20f45c29c72").
// Anything else in <cache_dir>/ccache (another name, a symlink) is left alone; a link is never
// followed.
// `folder` is "ccache" or "buildtrees" (build_tree_store.hpp: one folder per image hash too).
CcachePruneReport prune_ccache_dirs(const std::filesystem::path& cache_dir,
                                    const std::vector<std::string>& live_tags, bool dry_run,
                                    const std::string& folder = "ccache");

}  // namespace sf
