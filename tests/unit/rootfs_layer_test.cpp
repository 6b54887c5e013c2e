// An engine's tar of "/" made an image layer (formats/rootfs_layer.hpp): names made relative,
// what the engine adds and a runtime mounts dropped, device nodes dropped, hard links renamed with
// their targets, ".." refused, and the diff_id the sha256 of the bytes written.
#include "formats/rootfs_layer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <map>
#include <string>

#include "../support/temp_dir.hpp"
#include "slurm_factory/digest.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

struct Entry {
  std::string name;
  mode_t type;
  std::string data;  // file content, or link target
  bool hardlink = false;
};

void write_engine_tar(const fs::path& file, const std::vector<Entry>& entries) {
  archive* a = archive_write_new();
  archive_write_set_format_gnutar(a);
  ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  for (const auto& e : entries) {
    archive_entry* x = archive_entry_new();
    archive_entry_set_pathname(x, e.name.c_str());
    archive_entry_set_perm(x, e.type == AE_IFDIR ? 0755 : 0644);
    if (e.hardlink) {
      archive_entry_set_filetype(x, AE_IFREG);
      archive_entry_set_hardlink(x, e.data.c_str());
    } else {
      archive_entry_set_filetype(x, e.type);
      if (e.type == AE_IFLNK) archive_entry_set_symlink(x, e.data.c_str());
      if (e.type == AE_IFREG) archive_entry_set_size(x, static_cast<la_int64_t>(e.data.size()));
      if (e.type == AE_IFCHR) archive_entry_set_rdev(x, makedev(1, 3));
    }
    archive_write_header(a, x);
    if (e.type == AE_IFREG && !e.hardlink) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(x);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// name -> "file:<content>", "dir", "link:<target>", "hard:<target>"
std::map<std::string, std::string> read_layer(const fs::path& file) {
  std::map<std::string, std::string> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_filename(a, file.c_str(), 1 << 16), ARCHIVE_OK);
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(e);
    if (name.size() > 1 && name.back() == '/') name.pop_back();  // tar writes folders "x/"
    if (archive_entry_hardlink(e) != nullptr) {
      out[name] = std::string("hard:") + archive_entry_hardlink(e);
    } else if (archive_entry_filetype(e) == AE_IFDIR) {
      out[name] = "dir";
    } else if (archive_entry_filetype(e) == AE_IFLNK) {
      out[name] = std::string("link:") + archive_entry_symlink(e);
    } else {
      std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
      archive_read_data(a, data.data(), data.size());
      out[name] = "file:" + data;
    }
  }
  archive_read_free(a);
  return out;
}

TEST(RootfsLayer, NamesOfAnEngineEntry) {
  EXPECT_EQ(sf::rootfs_layer_name("/usr/bin/x"), "usr/bin/x");
  EXPECT_EQ(sf::rootfs_layer_name("./etc/passwd"), "etc/passwd");
  EXPECT_EQ(sf::rootfs_layer_name("/usr/"), "usr");
  EXPECT_EQ(sf::rootfs_layer_name("/"), "");
  EXPECT_EQ(sf::rootfs_layer_name("/.dockerenv"), "");
  EXPECT_EQ(sf::rootfs_layer_name("/run/.containerenv"), "");
  EXPECT_EQ(sf::rootfs_layer_name("/etc/resolv.conf"), "");
  EXPECT_EQ(sf::rootfs_layer_name("/dev/null"), "");
  EXPECT_EQ(sf::rootfs_layer_name("/proc/1/status"), "");
  EXPECT_EQ(sf::rootfs_layer_name("/dev"), "dev");  // the mount point stays
  EXPECT_EQ(sf::rootfs_layer_name("/device/x"), "device/x");
  EXPECT_EQ(sf::rootfs_layer_name("/usr/../etc/shadow"), "..");
}

TEST(RootfsLayer, KeepsTheFilesystemAndDropsWhatTheEngineAdds) {
  sf::test::TempDir dir("sf-rootfs-layer");
  write_engine_tar(dir / "engine.tar", {{"/", AE_IFDIR, ""},
                                        {"/.dockerenv", AE_IFREG, ""},
                                        {"/bin", AE_IFLNK, "usr/bin"},
                                        {"/dev/", AE_IFDIR, ""},
                                        {"/dev/null", AE_IFCHR, ""},
                                        {"/dev/fd", AE_IFLNK, "/proc/self/fd"},
                                        {"/etc/", AE_IFDIR, ""},
                                        {"/etc/hosts", AE_IFREG, ""},
                                        {"/etc/passwd", AE_IFREG, "root:x:0:0::/root:/bin/sh\n"},
                                        {"/usr/bin/", AE_IFDIR, ""},
                                        {"/usr/bin/x", AE_IFREG, "x"},
                                        {"/usr/bin/y", AE_IFREG, "/usr/bin/x", true}});
  auto stats = sf::write_rootfs_layer(dir / "engine.tar", dir / "layer.tar");
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  const auto layer = read_layer(dir / "layer.tar");
  const std::map<std::string, std::string> want{{"bin", "link:usr/bin"},
                                                {"dev", "dir"},
                                                {"etc", "dir"},
                                                {"etc/passwd", "file:root:x:0:0::/root:/bin/sh\n"},
                                                {"usr/bin", "dir"},
                                                {"usr/bin/x", "file:x"},
                                                {"usr/bin/y", "hard:usr/bin/x"}};
  EXPECT_EQ(layer, want);
  EXPECT_EQ(stats->entries, want.size());
  EXPECT_EQ(stats->dropped, 5U);  // "/", .dockerenv, /dev/null, /dev/fd, /etc/hosts
  EXPECT_EQ(stats->sha256, *sf::sha256_file_hex(dir / "layer.tar"));
}

TEST(RootfsLayer, RefusesAnEntryThatClimbsOut) {
  sf::test::TempDir dir("sf-rootfs-layer");
  write_engine_tar(dir / "engine.tar", {{"/etc/", AE_IFDIR, ""}, {"/etc/../../x", AE_IFREG, "x"}});
  auto stats = sf::write_rootfs_layer(dir / "engine.tar", dir / "layer.tar");
  ASSERT_FALSE(stats.has_value());
  EXPECT_THAT(stats.error().message, HasSubstr("'..'"));
}

TEST(RootfsLayer, RefusesAHardLinkToADroppedEntry) {
  sf::test::TempDir dir("sf-rootfs-layer");
  write_engine_tar(dir / "engine.tar",
                   {{"/etc/", AE_IFDIR, ""}, {"/x", AE_IFREG, "/.dockerenv", true}});
  auto stats = sf::write_rootfs_layer(dir / "engine.tar", dir / "layer.tar");
  ASSERT_FALSE(stats.has_value());
  EXPECT_THAT(stats.error().message, HasSubstr("hard link"));
}

}  // namespace
