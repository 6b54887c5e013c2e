#include "slurm_factory/core/archive_writer.hpp"

#include <gtest/gtest.h>

#include "../support/temp_dir.hpp"
#include "slurm_factory/core/archive_reader.hpp"
#include "slurm_factory/http_client.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

void make_tree(const fs::path& root) {
  test::write_file(root / "bin/tool", "#!/bin/sh\necho hi\n");
  fs::permissions(root / "bin/tool", fs::perms(0755));
  test::write_file(root / "lib/libx.so.1", std::string(100000, 'x'));
  fs::create_symlink("libx.so.1", root / "lib/libx.so");
  fs::create_directories(root / "share/empty");
  test::write_file(root / "a-first", "");
}

TEST(ArchiveWriter, PacksSortedEntriesWithSha256) {
  test::TempDir dir;
  make_tree(dir / "root");
  auto entries = write_archive(dir / "root", dir / "out.tar.zst");
  ASSERT_TRUE(entries) << entries.error().message;
  std::vector<std::string> paths;
  for (auto& e : *entries) paths.push_back(e.path);
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end()));
  EXPECT_EQ(paths.front(), "a-first");
  auto tool =
      std::find_if(entries->begin(), entries->end(), [](auto& e) { return e.path == "bin/tool"; });
  ASSERT_NE(tool, entries->end());
  EXPECT_EQ(tool->mode, 0755U);
  EXPECT_EQ(tool->sha256, http::sha256_hex("#!/bin/sh\necho hi\n"));
  auto link = std::find_if(entries->begin(), entries->end(),
                           [](auto& e) { return e.path == "lib/libx.so"; });
  ASSERT_NE(link, entries->end());
  EXPECT_EQ(link->type, "symlink");
  EXPECT_EQ(link->link_target, "libx.so.1");
  EXPECT_FALSE(fs::exists(dir.path().string() + "/out.tar.zst.tmp." + std::to_string(getpid())));
}

TEST(ArchiveWriter, SameTreeGivesByteIdenticalArchive) {
  test::TempDir dir;
  make_tree(dir / "a");
  make_tree(dir / "b");
  fs::last_write_time(dir / "b/bin/tool", fs::file_time_type::clock::now() - std::chrono::hours(5));
  ASSERT_TRUE(write_archive(dir / "a", dir / "a.tar.zst"));
  ASSERT_TRUE(write_archive(dir / "b", dir / "b.tar.zst"));
  EXPECT_EQ(*http::sha256_file_hex(dir / "a.tar.zst"), *http::sha256_file_hex(dir / "b.tar.zst"));
}

TEST(ArchiveWriter, RoundTripsThroughTheReaderForEveryCompression) {
  for (auto c : {ArchiveCompression::kZstd, ArchiveCompression::kGzip, ArchiveCompression::kXz,
                 ArchiveCompression::kNone}) {
    test::TempDir dir;
    make_tree(dir / "root");
    ArchiveWriteOptions o;
    o.compression = c;
    auto packed = write_archive(dir / "root", dir / "x.tar", o);
    ASSERT_TRUE(packed) << packed.error().message;
    auto index = read_archive_index(dir / "x.tar");
    ASSERT_TRUE(index) << index.error().message;
    ASSERT_EQ(index->size(), packed->size());
    for (size_t i = 0; i < index->size(); ++i) {
      EXPECT_EQ((*index)[i].path, (*packed)[i].path);
      EXPECT_EQ((*index)[i].sha256, (*packed)[i].sha256);
    }
    auto out = extract_archive(dir / "x.tar", dir / "out");
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(test::read_file(dir / "out/lib/libx.so"), std::string(100000, 'x'));
    EXPECT_TRUE(fs::is_symlink(dir / "out/lib/libx.so"));
    EXPECT_TRUE(fs::is_directory(dir / "out/share/empty"));
    EXPECT_EQ(fs::status(dir / "out/bin/tool").permissions() & fs::perms::owner_exec,
              fs::perms::owner_exec);
  }
}

TEST(ArchiveWriter, MissingRootIsAFailureNamingIt) {
  test::TempDir dir;
  auto r = write_archive(dir / "nope", dir / "x.tar.zst");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("nope"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "x.tar.zst"));
}

}  // namespace
}  // namespace sf
