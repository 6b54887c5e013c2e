// Walking and reading a tree a build container wrote, on a real temporary tree: a symlink to a
// host folder is listed, never entered; a linked root or folder on the way is refused naming the
// link; a linked, FIFO or oversized file is not read; removal never goes through a link.
#include "support/safe_walk.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

class SafeWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The host's own files, which the tree links to.
    test::write_file(host_ / "secret.txt", "host secret\n");
    test::write_file(host_ / "keep.la", "# a host libtool archive\n");
    // The tree a build left.
    test::write_file(tree_ / "lib/libfoo.so.1", "ELF?");
    fs::create_symlink("libfoo.so.1", tree_ / "lib/libfoo.so");
    fs::create_symlink(host_.path(), tree_ / "lib/host");
    fs::create_symlink(host_ / "secret.txt", tree_ / "config.log");
    fs::create_directories(tree_ / "share/empty");
  }
  test::TempDir host_{"sf-safe-walk-host"};
  test::TempDir tree_{"sf-safe-walk-tree"};
};

TEST_F(SafeWalkTest, ListsLinksWithTheirTargetAndNeverEntersThem) {
  auto entries = walk_tree(tree_.path());
  ASSERT_TRUE(entries) << entries.error().message;
  std::vector<std::string> paths;
  for (const auto& e : *entries) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"config.log", "lib", "lib/host", "lib/libfoo.so",
                                             "lib/libfoo.so.1", "share", "share/empty"}));
  for (const auto& e : *entries) {
    if (e.path == "lib/host") {
      EXPECT_EQ(e.kind, TreeEntryKind::kSymlink);
      EXPECT_EQ(e.link_target, host_.path().string());
    }
    if (e.path == "lib/libfoo.so.1") {
      EXPECT_EQ(e.kind, TreeEntryKind::kFile);
      EXPECT_EQ(e.size, 4U);
    }
    if (e.path == "share") EXPECT_EQ(e.kind, TreeEntryKind::kDirectory);
  }
}

TEST_F(SafeWalkTest, ARootOrAFolderOnTheWayThatIsALinkIsRefusedNamingIt) {
  const fs::path linked_root = tree_ / "root-link";
  fs::create_symlink(host_.path(), linked_root);
  auto walked = walk_tree(linked_root);
  ASSERT_FALSE(walked);
  EXPECT_NE(walked.error().message.find("symlink"), std::string::npos) << walked.error().message;
  EXPECT_NE(walked.error().message.find(host_.path().string()), std::string::npos);
  EXPECT_FALSE(walk_tree(linked_root / "")) << "a trailing slash followed the link";

  auto below = walk_tree_beneath(tree_.path(), "lib/host");
  ASSERT_FALSE(below);
  EXPECT_NE(below.error().message.find("'lib/host'"), std::string::npos) << below.error().message;
  EXPECT_NE(below.error().message.find(host_.path().string()), std::string::npos);

  auto missing = open_dir_beneath(tree_.path(), "share/none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, Failure::Kind::kNotFound);
  EXPECT_FALSE(open_dir_beneath(tree_.path(), "share/../lib"));  // no '..'
  EXPECT_TRUE(open_dir_beneath(tree_.path(), "share/empty"));
}

TEST_F(SafeWalkTest, ReadsOnlyRegularFilesNotLinkedAndUnderTheCap) {
  auto ok = read_file_beneath(tree_.path(), "lib/libfoo.so.1", 16);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, "ELF?");

  auto linked = read_file_beneath(tree_.path(), "config.log", 1 << 20);
  ASSERT_FALSE(linked);
  EXPECT_NE(linked.error().message.find("'config.log'"), std::string::npos);
  EXPECT_NE(linked.error().message.find("secret.txt"), std::string::npos) << "names the target";
  EXPECT_EQ(linked.error().message.find("host secret"), std::string::npos) << "never its content";

  auto through = read_file_beneath(tree_.path(), "lib/host/secret.txt", 1 << 20);
  ASSERT_FALSE(through);
  EXPECT_NE(through.error().message.find("'lib/host'"), std::string::npos);

  EXPECT_FALSE(read_file_beneath(tree_.path(), "lib/libfoo.so.1", 3)) << "over the cap";

  ASSERT_EQ(::mkfifo((tree_ / "fifo").c_str(), 0600), 0);
  auto fifo = read_file_beneath(tree_.path(), "fifo", 16);  // must not block
  ASSERT_FALSE(fifo);
  EXPECT_NE(fifo.error().message.find("not a regular file"), std::string::npos);
}

TEST_F(SafeWalkTest, CopiesARegularFileUpToTheCapAndNeverALinkedOne) {
  const fs::path dest = tree_ / "copy";
  auto copied = copy_file_beneath(tree_.path(), "lib/libfoo.so.1", dest, 2);
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_EQ(copied->bytes, 2U);
  EXPECT_TRUE(copied->truncated);
  EXPECT_EQ(test::read_file(dest), "EL");

  const fs::path leaked = tree_ / "leaked";
  EXPECT_FALSE(copy_file_beneath(tree_.path(), "config.log", leaked, 1 << 20));
  EXPECT_FALSE(fs::exists(leaked));
}

TEST_F(SafeWalkTest, RemovesNothingThroughALinkedFolder) {
  auto r = remove_file_beneath(tree_.path(), "lib/host/keep.la");
  ASSERT_FALSE(r);
  EXPECT_TRUE(fs::exists(host_ / "keep.la"));
  EXPECT_TRUE(remove_file_beneath(tree_.path(), "lib/host"));  // the link itself
  EXPECT_FALSE(fs::exists(fs::symlink_status(tree_ / "lib/host")));
  EXPECT_TRUE(fs::exists(host_ / "keep.la"));
  EXPECT_FALSE(remove_file_beneath(tree_.path(), "share/empty"));  // never a directory
}

TEST_F(SafeWalkTest, ReplacesALinkInPlace) {
  ASSERT_TRUE(replace_symlink_beneath(tree_.path(), "lib/libfoo.so", "other.so.1"));
  EXPECT_EQ(fs::read_symlink(tree_ / "lib/libfoo.so"), "other.so.1");
  EXPECT_FALSE(replace_symlink_beneath(tree_.path(), "lib/libfoo.so.1", "x"));  // not a link
}

TEST(Printable, EscapesControlBytesAndCapsTheLength) {
  EXPECT_EQ(printable("a\nb\x1b[31m"), "a\\x0ab\\x1b[31m");
  EXPECT_EQ(printable(std::string(300, 'x')).size(), 203U);
}

}  // namespace
}  // namespace sf
