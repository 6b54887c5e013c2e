// clean --full's compiler cache pruning: folders of images that are gone go, the others stay,
// anything that is not a cache folder (another name, a link) is never touched or followed.
#include "cache/ccache_prune.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace fs = std::filesystem;

namespace sf {
namespace {

class CcachePrune : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sf-ccache-prune-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "cache" / "ccache");
    fs::create_directories(root_ / "outside");
    std::ofstream(root_ / "outside" / "keep.txt") << "x";
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path folder(const std::string& name) {
    const fs::path d = root_ / "cache" / "ccache" / name;
    fs::create_directories(d / "0");
    std::ofstream(d / "0" / "obj") << "o";
    return d;
  }
  fs::path root_;
};

TEST_F(CcachePrune, RemovesTheFoldersOfImagesThatAreGone) {
  const std::string live = "d20f45c29c72" + std::string(52, 'a');
  const std::string gone = "98e722847e23" + std::string(52, 'b');
  const fs::path keep = folder(live);
  const fs::path drop = folder(gone);
  const fs::path other = folder("notes");  // not a hash: not ours to judge
  fs::create_directory_symlink(root_ / "outside",
                               root_ / "cache" / "ccache" / std::string(64, 'c'));

  const auto dry =
      prune_ccache_dirs(root_ / "cache", {"slurm-factory/toolchain-trixie:d20f45c29c72"}, true);
  EXPECT_EQ(dry.removed, std::vector<fs::path>{drop});
  EXPECT_TRUE(fs::exists(drop));

  const auto r =
      prune_ccache_dirs(root_ / "cache", {"slurm-factory/toolchain-trixie:d20f45c29c72"}, false);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(r.removed, std::vector<fs::path>{drop});
  EXPECT_FALSE(fs::exists(drop));
  EXPECT_TRUE(fs::exists(keep / "0" / "obj"));
  EXPECT_TRUE(fs::exists(other / "0" / "obj"));
  EXPECT_TRUE(fs::exists(root_ / "outside" / "keep.txt"));
  EXPECT_TRUE(fs::is_symlink(root_ / "cache" / "ccache" / std::string(64, 'c')));
}

TEST_F(CcachePrune, NoImagesLeftRemovesEveryCacheFolder) {
  const fs::path a = folder(std::string(64, '1'));
  const fs::path b = folder(std::string(64, '2'));
  const auto r = prune_ccache_dirs(root_ / "cache", {}, false);
  EXPECT_EQ(r.removed.size(), 2U);
  EXPECT_FALSE(fs::exists(a));
  EXPECT_FALSE(fs::exists(b));
}

TEST_F(CcachePrune, NoCcacheFolderIsNothingToDo) {
  fs::remove_all(root_ / "cache" / "ccache");
  const auto r = prune_ccache_dirs(root_ / "cache", {}, false);
  EXPECT_TRUE(r.removed.empty());
  EXPECT_TRUE(r.failures.empty());
}

}  // namespace
}  // namespace sf
