#include "slurm_factory/archive_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>

#include "../support/temp_dir.hpp"
#include "formats/archive_reader.hpp"
#include "slurm_factory/archive_files.hpp"
#include "slurm_factory/digest.hpp"

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
  EXPECT_EQ(tool->sha256, sha256_hex("#!/bin/sh\necho hi\n"));
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
  EXPECT_EQ(*sha256_file_hex(dir / "a.tar.zst"), *sha256_file_hex(dir / "b.tar.zst"));
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

// Issue 12 item 14: nothing is packed setuid, setgid, sticky or world-writable; the headers (read
// back raw with libarchive, owner 0/0) carry the reset mode, and the entry list says so too.
TEST(ArchiveWriter, DangerousModesArePackedAsPlain0755Or0644) {
  test::TempDir dir;
  make_tree(dir / "root");
  test::write_file(dir / "root/bin/su", "#!/bin/sh\n");
  test::write_file(dir / "root/share/open", "anyone");
  test::write_file(dir / "root/share/mine", "mine");
  fs::create_directories(dir / "root/tmp");
  ASSERT_EQ(::chmod((dir / "root/bin/su").c_str(), 04755), 0);
  ASSERT_EQ(::chmod((dir / "root/share/open").c_str(), 0666), 0);
  ASSERT_EQ(::chmod((dir / "root/share/mine").c_str(), 0600), 0);
  ASSERT_EQ(::chmod((dir / "root/tmp").c_str(), 01777), 0);
  auto entries = write_archive(dir / "root", dir / "out.tar.zst");
  ASSERT_TRUE(entries) << entries.error().message;
  std::map<std::string, std::uint32_t> listed;
  for (const auto& e : *entries) listed[e.path] = e.mode;
  EXPECT_EQ(listed["bin/su"], 0755U);
  EXPECT_EQ(listed["share/open"], 0644U);
  EXPECT_EQ(listed["share/mine"], 0600U);
  EXPECT_EQ(listed["tmp"], 0755U);

  std::map<std::string, unsigned> headers;
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  ASSERT_EQ(archive_read_open_filename(a, (dir / "out.tar.zst").c_str(), 1 << 16), ARCHIVE_OK);
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(e);
    if (!name.empty() && name.back() == '/') name.pop_back();  // pax names directories "d/"
    headers[name] = static_cast<unsigned>(archive_entry_mode(e) & 07777);
    EXPECT_EQ(archive_entry_uid(e), 0);
  }
  archive_read_free(a);
  EXPECT_EQ(headers.at("bin/su"), 0755U);
  EXPECT_EQ(headers.at("share/open"), 0644U);
  EXPECT_EQ(headers.at("share/mine"), 0600U);
  EXPECT_EQ(headers.at("tmp"), 0755U);
  EXPECT_EQ(headers.at("bin/tool"), 0755U);
  EXPECT_EQ(safe_packed_mode(02750, false), 0755U);
  EXPECT_EQ(safe_packed_mode(0646, false), 0644U);
  EXPECT_EQ(safe_packed_mode(0750, true), 0750U);
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

// gzip_file (ABI 3.2): what gunzip gives back is the source; both digests are right; the same
// source gives the same bytes; a missing source is a failure that leaves no file.
TEST(ArchiveWriter, GzipFileStreamsWithBothDigests) {
  sf::test::TempDir dir("sf-gzip-file");
  std::string data;
  for (int i = 0; i < 200000; ++i) data += "line " + std::to_string(i % 977) + "\n";
  sf::test::write_file(dir / "src", data);
  auto a = sf::gzip_file(dir / "src", dir / "a.gz");
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a->source_sha256, sf::sha256_hex(data));
  EXPECT_EQ(a->sha256, *sf::sha256_file_hex(dir / "a.gz"));
  EXPECT_EQ(a->size, std::filesystem::file_size(dir / "a.gz"));
  EXPECT_LT(a->size, data.size() / 4);
  const std::string back = sf::test::read_file(dir / "a.gz");
  auto files = sf::read_archive_files(back, data.size() + 1);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  EXPECT_EQ(files->at("data"), data);
  auto b = sf::gzip_file(dir / "src", dir / "b.gz");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a->sha256, b->sha256);
  auto missing = sf::gzip_file(dir / "none", dir / "c.gz");
  EXPECT_FALSE(missing.has_value());
  EXPECT_FALSE(std::filesystem::exists(dir / "c.gz"));
}
