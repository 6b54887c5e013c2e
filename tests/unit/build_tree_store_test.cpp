// The build trees of incremental rebuilds: kept after a build, taken by the next build with the
// same key only, the stale one removed, links never followed or kept.
#include "build/build_tree_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "recipes/planner.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

const std::string kImage(64, 'a');

PackageSpec slurm_spec() {
  PackageSpec s;
  s.name = "slurm";
  s.version = "24.11.5";
  s.source.sha256 = std::string(64, '1');
  s.configure_args = {"--prefix=/opt/slurm/view", "--enable-pam"};
  s.prefix = "/opt/slurm/view";
  s.toolchain = {"debian", "trixie", "amd64", kImage};
  s.dependencies = {{"munge", {DependencyType::kLink}, std::string(64, 'm')}};
  s.patches = {{"patches/a.patch", std::string(64, 'p'), 1, "", {}}};
  return s;
}

TEST(BuildTreeKey, TheSourceDoesNotChangeItEveryOtherInputDoes) {
  const PackageSpec base = slurm_spec();
  const std::string k = build_tree_key(base, "templates v1");
  PackageSpec release = base;  // a new patch release with a site patch
  release.version = "24.11.6";
  release.source.sha256 = std::string(64, '2');
  release.patches.clear();
  EXPECT_EQ(build_tree_key(release, "templates v1"), k);

  PackageSpec flags = base;
  flags.configure_args.push_back("--with-nvml");
  EXPECT_NE(build_tree_key(flags, "templates v1"), k);
  PackageSpec dep = base;
  dep.dependencies[0].hash = std::string(64, 'n');
  EXPECT_NE(build_tree_key(dep, "templates v1"), k);
  PackageSpec image = base;
  image.toolchain.image_hash = std::string(64, 'b');
  EXPECT_NE(build_tree_key(image, "templates v1"), k);
  PackageSpec env = base;
  env.env["CFLAGS"] = "-O3";
  EXPECT_NE(build_tree_key(env, "templates v1"), k);
  EXPECT_NE(build_tree_key(base, "templates v2"), k);
}

class BuildTreeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sf-build-trees-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "cache");
  }
  void TearDown() override { fs::remove_all(root_); }

  // A finished build's work folder: keep/src (with an object) and keep/source.sha256.
  fs::path work(const std::string& name, const std::string& object = "o1") {
    const fs::path w = root_ / name;
    fs::create_directories(w / "keep" / "src" / "lib");
    std::ofstream(w / "keep" / "src" / "lib" / "x.o") << object;
    std::ofstream(w / "keep" / "source.sha256") << "abc\t./lib/x.c\n";
    return w;
  }
  static std::string text(const fs::path& f) {
    std::ifstream in(f);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  fs::path root_;
};

TEST_F(BuildTreeStoreTest, NothingKeptIsNothingToTake) {
  BuildTreeStore store(root_ / "cache");
  EXPECT_FALSE(store.take(kImage, "slurm", "24.11.5", "k1", root_ / "prev"));
  EXPECT_FALSE(fs::exists(root_ / "prev"));
}

TEST_F(BuildTreeStoreTest, AKeptTreeIsTakenOnceWithItsKey) {
  BuildTreeStore store(root_ / "cache");
  const fs::path w = work("w1");
  ASSERT_TRUE(store.keep(kImage, "slurm", "24.11.5", "k1", w));
  EXPECT_FALSE(fs::exists(w / "keep"));  // moved, not copied
  EXPECT_EQ(store.dir_for(kImage, "slurm"), root_ / "cache" / "buildtrees" / kImage / "slurm");

  ASSERT_TRUE(store.take(kImage, "slurm", "24.11.5", "k1", root_ / "prev"));
  EXPECT_EQ(text(root_ / "prev" / "src" / "lib" / "x.o"), "o1");
  EXPECT_EQ(text(root_ / "prev" / "source.sha256"), "abc\t./lib/x.c\n");
  // Taken: a second build does not get it too.
  EXPECT_FALSE(store.take(kImage, "slurm", "24.11.5", "k1", root_ / "prev2"));
  // Another package or image has none.
  ASSERT_TRUE(store.keep(kImage, "slurm", "24.11.5", "k1", work("w2")));
  EXPECT_FALSE(store.take(kImage, "munge", "24.11.5", "k1", root_ / "prev3"));
  EXPECT_FALSE(store.take(std::string(64, 'b'), "slurm", "24.11.5", "k1", root_ / "prev3"));
}

TEST_F(BuildTreeStoreTest, EachSeriesAndKeyHasItsOwnTree) {
  // A site rebuilding every supported series (and a second configuration of one) after a security
  // release: each build finds its own series' tree, none clobbers another's.
  BuildTreeStore store(root_ / "cache");
  ASSERT_TRUE(store.keep(kImage, "slurm", "24.11.5", "k1", work("w1", "a")));
  ASSERT_TRUE(store.keep(kImage, "slurm", "24.11.5", "k2", work("w2", "b")));
  ASSERT_TRUE(store.keep(kImage, "slurm", "22.05.8", "k1", work("w3", "c")));
  EXPECT_FALSE(store.take(kImage, "slurm", "23.11.1", "k1", root_ / "p0"));
  EXPECT_FALSE(store.take(kImage, "slurm", "24.11.6", "k3", root_ / "p0"));
  ASSERT_TRUE(store.take(kImage, "slurm", "24.11.6", "k2", root_ / "p1"));
  ASSERT_TRUE(store.take(kImage, "slurm", "24.11.7", "k1", root_ / "p2"));
  ASSERT_TRUE(store.take(kImage, "slurm", "22.05.9", "k1", root_ / "p3"));
  EXPECT_EQ(text(root_ / "p1" / "src" / "lib" / "x.o"), "b");
  EXPECT_EQ(text(root_ / "p2" / "src" / "lib" / "x.o"), "a");
  EXPECT_EQ(text(root_ / "p3" / "src" / "lib" / "x.o"), "c");
  EXPECT_EQ(BuildTreeStore::series_of("24.11.5"), "24.11");
  EXPECT_EQ(BuildTreeStore::series_of("../x.y").size(), 16U);  // not a name: hashed
}

TEST_F(BuildTreeStoreTest, TheOldestTreesGoBeyondTheLimit) {
  BuildTreeStore store(root_ / "cache");
  const std::size_t n = BuildTreeStore::kMaxTreesPerPackage + 1;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(store.keep(kImage, "slurm", std::to_string(20 + i) + ".1.0", "k1",
                           work("w" + std::to_string(i))));
  }
  EXPECT_FALSE(store.take(kImage, "slurm", "20.1.1", "k1", root_ / "p0")) << "the oldest stayed";
  for (std::size_t i = 1; i < n; ++i) {
    EXPECT_TRUE(store.take(kImage, "slurm", std::to_string(20 + i) + ".1.1", "k1",
                           root_ / ("p" + std::to_string(i))))
        << i;
  }
}

TEST_F(BuildTreeStoreTest, ANewerBuildReplacesTheKeptTree) {
  BuildTreeStore store(root_ / "cache");
  ASSERT_TRUE(store.keep(kImage, "slurm", "24.11.5", "k1", work("w1", "old")));
  ASSERT_TRUE(store.keep(kImage, "slurm", "24.11.6", "k1", work("w2", "newest")));
  ASSERT_TRUE(store.take(kImage, "slurm", "24.11.7", "k1", root_ / "prev"));
  EXPECT_EQ(text(root_ / "prev" / "src" / "lib" / "x.o"), "newest");
  EXPECT_FALSE(store.take(kImage, "slurm", "24.11.7", "k1", root_ / "prev2"));
}

TEST_F(BuildTreeStoreTest, ABuildThatLeftLinksKeepsNothingAndNothingIsFollowed) {
  BuildTreeStore store(root_ / "cache");
  fs::create_directories(root_ / "outside");
  std::ofstream(root_ / "outside" / "secret") << "s";
  // keep/src is a link to a host folder
  const fs::path w = root_ / "w1";
  fs::create_directories(w / "keep");
  fs::create_directory_symlink(root_ / "outside", w / "keep" / "src");
  std::ofstream(w / "keep" / "source.sha256") << "x";
  auto kept = store.keep(kImage, "slurm", "24.11.5", "k1", w);
  ASSERT_FALSE(kept);
  EXPECT_NE(kept.error().message.find("keep"), std::string::npos) << kept.error().message;
  EXPECT_TRUE(fs::is_symlink(w / "keep" / "src"));
  EXPECT_EQ(text(root_ / "outside" / "secret"), "s");
  // keep itself is a link
  const fs::path w1 = root_ / "w1b";
  fs::create_directories(w1);
  fs::create_directory_symlink(work("w1c") / "keep", w1 / "keep");
  EXPECT_FALSE(store.keep(kImage, "slurm", "24.11.5", "k1", w1));
  EXPECT_TRUE(fs::is_directory(root_ / "w1c" / "keep" / "src"));
  // source.sha256 is a link
  const fs::path w2 = work("w2");
  fs::remove(w2 / "keep" / "source.sha256");
  fs::create_symlink(root_ / "outside" / "secret", w2 / "keep" / "source.sha256");
  EXPECT_FALSE(store.keep(kImage, "slurm", "24.11.5", "k1", w2));
  EXPECT_FALSE(store.take(kImage, "slurm", "24.11.5", "k1", root_ / "prev"));
  // A kept tree replaced by a link (by anyone) is removed as a link, never followed.
  ASSERT_TRUE(store.keep(kImage, "slurm", "24.11.5", "k1", work("w3")));
  const fs::path tree = store.slot_for(kImage, "slurm", "24.11.5", "k1") / "tree";
  fs::remove_all(tree);
  fs::create_directory_symlink(root_ / "outside", tree);
  EXPECT_FALSE(store.take(kImage, "slurm", "24.11.5", "k1", root_ / "prev"));
  EXPECT_FALSE(fs::exists(root_ / "prev"));
  EXPECT_EQ(text(root_ / "outside" / "secret"), "s");
}

TEST_F(BuildTreeStoreTest, ANonHexImageHashGivesASafeFolderName) {
  BuildTreeStore store(root_ / "cache");
  const fs::path d = store.dir_for("../../etc", "slurm");
  EXPECT_EQ(d.parent_path().parent_path(), root_ / "cache" / "buildtrees");
  EXPECT_EQ(d.parent_path().filename().string().size(), 64U);
}

}  // namespace
}  // namespace sf
