#include "formats/source_date_epoch.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <fstream>

#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {
using test::TempDir;

// A tar.gz whose entries carry these mtimes (and one directory with no time at all).
void write_tarball(const fs::path& file,
                   const std::vector<std::pair<std::string, std::int64_t>>& e) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  archive_entry* dir = archive_entry_new();
  archive_entry_set_pathname(dir, "pkg-1.0");
  archive_entry_set_filetype(dir, AE_IFDIR);
  archive_entry_set_perm(dir, 0755);
  archive_write_header(a, dir);
  archive_entry_free(dir);
  for (const auto& [path, mtime] : e) {
    archive_entry* f = archive_entry_new();
    archive_entry_set_pathname(f, path.c_str());
    archive_entry_set_filetype(f, AE_IFREG);
    archive_entry_set_perm(f, 0644);
    archive_entry_set_size(f, 3);
    archive_entry_set_mtime(f, static_cast<time_t>(mtime), 0);
    archive_write_header(a, f);
    archive_write_data(a, "abc", 3);
    archive_entry_free(f);
  }
  archive_write_close(a);
  archive_write_free(a);
}

TEST(SourceDateEpoch, IsTheNewestEntryTime) {
  TempDir tmp;
  const fs::path t = tmp.path() / "pkg-1.0.tar.gz";
  write_tarball(
      t, {{"pkg-1.0/a.c", 1700000000}, {"pkg-1.0/NEWS", 1751371200}, {"pkg-1.0/b.c", 1600000000}});
  auto sde = source_date_epoch(t);
  ASSERT_TRUE(sde) << sde.error().message;
  EXPECT_EQ(*sde, 1751371200);
  EXPECT_EQ(format_utc(*sde), "2025-07-01T12:00:00Z");
}

TEST(SourceDateEpoch, DoesNotDependOnTheArchiveFileTimeOrTheClock) {
  TempDir tmp;
  const fs::path t = tmp.path() / "x.tar.gz";
  write_tarball(t, {{"pkg-1.0/a.c", 1234567890}});
  auto first = source_date_epoch(t);
  fs::last_write_time(t, fs::file_time_type::clock::now());
  auto second = source_date_epoch(t);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, 1234567890);
  EXPECT_EQ(*first, *second);
}

TEST(SourceDateEpoch, NamesAnUnreadableArchive) {
  TempDir tmp;
  const fs::path t = tmp.path() / "broken.tar.gz";
  std::ofstream(t) << "this is not an archive at all, not even close";
  auto sde = source_date_epoch(t);
  ASSERT_FALSE(sde);
  EXPECT_NE(sde.error().message.find("broken.tar.gz"), std::string::npos);
}

}  // namespace
}  // namespace sf
