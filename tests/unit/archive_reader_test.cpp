#include "formats/archive_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "../support/temp_dir.hpp"
#include "slurm_factory/digest.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

struct Crafted {
  std::string path;
  // 'f' file, 'd' dir, 'l' symlink, 'h' hardlink, 'c' char device, 'b' block device, 'p' fifo,
  // 'z' a file of `zeros` zero bytes (compressed to almost nothing: a bomb)
  char type;
  std::string data_or_target;
  std::uint32_t mode = 0;  // 0: 0644 (files), 0755 (directories)
  std::uint64_t zeros = 0;
};

// Writes a tar.zst with exactly these entries (crafted, bypassing every check of our writer).
void craft(const fs::path& file, const std::vector<Crafted>& entries) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_zstd(a);
  ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  for (const auto& c : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, c.path.c_str());
    archive_entry_set_perm(e, 0644);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    if (c.type == 'z') {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, static_cast<la_int64_t>(c.zeros));
    } else if (c.type == 'c' || c.type == 'b' || c.type == 'p') {
      archive_entry_set_filetype(e, c.type == 'c' ? AE_IFCHR : c.type == 'b' ? AE_IFBLK : AE_IFIFO);
      if (c.type != 'p') archive_entry_set_rdev(e, makedev(1, 3));  // /dev/null's numbers
    } else if (c.type == 'f') {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, static_cast<la_int64_t>(c.data_or_target.size()));
    } else if (c.type == 'd') {
      archive_entry_set_filetype(e, AE_IFDIR);
      archive_entry_set_perm(e, 0755);
    } else if (c.type == 'l') {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, c.data_or_target.c_str());
    } else if (c.type == 'h') {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, c.data_or_target.c_str());
    }
    if (c.mode != 0) archive_entry_set_perm(e, c.mode);
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (c.type == 'f') archive_write_data(a, c.data_or_target.data(), c.data_or_target.size());
    if (c.type == 'z') {
      const std::string chunk(1 << 20, '\0');
      for (std::uint64_t left = c.zeros; left > 0;) {
        const auto n = std::min<std::uint64_t>(left, chunk.size());
        ASSERT_EQ(archive_write_data(a, chunk.data(), n), static_cast<la_ssize_t>(n));
        left -= n;
      }
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

size_t count_entries(const fs::path& dir) {
  size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::end(it); ++it) ++n;
  return n;
}

class ArchiveReaderRefuses : public ::testing::TestWithParam<std::vector<Crafted>> {};

TEST_P(ArchiveReaderRefuses, MaliciousArchiveAndLeavesNothing) {
  test::TempDir dir;
  fs::create_directories(dir / "dest");
  craft(dir / "evil.tar.zst", GetParam());
  auto r = extract_archive(dir / "evil.tar.zst", dir / "dest");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("refused archive"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("nothing was extracted"), std::string::npos);
  EXPECT_EQ(count_entries(dir / "dest"), 0U);
  EXPECT_FALSE(fs::exists(dir / "escaped"));
  EXPECT_FALSE(fs::exists("/tmp/sf-escaped-by-test"));
}

INSTANTIATE_TEST_SUITE_P(
    Crafted, ArchiveReaderRefuses,
    ::testing::Values(
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"../escaped", 'f', "evil"}},
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"ok/../../escaped", 'f', "evil"}},
        std::vector<Crafted>{{"/tmp/sf-escaped-by-test", 'f', "evil"}},
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"link", 'l', "/tmp"}},
        std::vector<Crafted>{{"ok/link", 'l', "../../escaped"}},
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"hard", 'h', "../escaped"}},
        // Each link stays inside on its own; together they point above the destination.
        std::vector<Crafted>{{"d", 'd', ""}, {"d/up", 'l', ".."}, {"esc", 'l', "d/up/.."}},
        // A symlink made by the archive, then used as a path prefix by a later entry.
        std::vector<Crafted>{{"d", 'd', ""}, {"d/up", 'l', ".."}, {"d/up/x", 'f', "evil"}},
        std::vector<Crafted>{{"sub", 'd', ""}, {"lnk", 'l', "sub"}, {"lnk/f", 'f', "x"}},
        std::vector<Crafted>{{"lnk", 'l', "."}, {"lnk/lnk/f", 'f', "x"}},
        // Hard links only to regular files extracted earlier from the same archive.
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"hard", 'h', "ok/missing"}},
        std::vector<Crafted>{{"ok/l", 'l', "first"}, {"ok/first", 'f', "x"}, {"h", 'h', "ok/l"}},
        std::vector<Crafted>{{"ok", 'd', ""}, {"h", 'h', "ok"}},
        // A directory this archive made (entries may be inside) replaced by a link or a file.
        std::vector<Crafted>{{"a", 'd', ""}, {"a", 'l', "b"}},
        std::vector<Crafted>{{"a/f", 'f', "x"}, {"a", 'f', "y"}},
        // A file this archive made used as a directory.
        std::vector<Crafted>{{"f", 'f', "x"}, {"f/g", 'f', "y"}},
        // Issue 12 item 13: dangling links that escape once earlier (or later) links resolve.
        std::vector<Crafted>{{"view/p/q", 'd', ""},
                             {"view/p/q/d", 'l', "../.."},
                             {"view/p/q/e", 'l', "d/../../../../x"}},
        std::vector<Crafted>{{"view/p/q", 'd', ""},
                             {"view/p/q/e", 'l', "d/../../../../x"},
                             {"view/p/q/d", 'l', "../.."}},
        std::vector<Crafted>{{"a", 'd', ""}, {"a/self", 'l', "."}, {"a/e", 'l', "self/../../x"}},
        std::vector<Crafted>{{"a/b", 'd', ""}, {"a/b/up", 'l', "../.."}, {"a/e", 'l', "b/up/../y"}},
        std::vector<Crafted>{{"loop1", 'l', "loop2/x"}, {"loop2", 'l', "loop1/y"}},
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"abs", 'l', "/etc/passwd"}},
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"ok/dots", 'l', "../../../../etc"}},
        // Hard links outside, device nodes, fifos.
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"passwd", 'h', "/etc/passwd"}},
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"passwd", 'h', "../../../etc/passwd"}},
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"null", 'c', ""}},
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"disk", 'b', ""}},
        std::vector<Crafted>{{"ok/first", 'f', "fine"}, {"pipe", 'p', ""}}));

// A symlink already in the destination (pointing outside) is never written through.
TEST(ArchiveReader, RefusesToWriteThroughASymlinkInTheDestination) {
  test::TempDir dir;
  fs::create_directories(dir / "outside");
  fs::create_directories(dir / "dest/keep");
  fs::create_directory_symlink("../../outside", dir / "dest/keep/out");
  craft(dir / "evil.tar.zst", {{"new/a", 'f', "x"}, {"keep/out/evil", 'f', "y"}});
  auto r = extract_archive(dir / "evil.tar.zst", dir / "dest");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symbolic link"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::is_empty(dir / "outside"));
  EXPECT_FALSE(fs::exists(dir / "dest/new"));
  EXPECT_TRUE(fs::is_symlink(dir / "dest/keep/out"));  // what was there before survives
}

// An entry at the path of a symlink already in the destination replaces the link; nothing
// (contents, mode, times) reaches the link's target.
TEST(ArchiveReader, ReplacesASymlinkInTheWayInsteadOfFollowingIt) {
  test::TempDir dir;
  fs::create_directories(dir / "outside");
  test::write_file(dir / "outside/target", "theirs");
  fs::permissions(dir / "outside", fs::perms(0700));
  fs::create_directories(dir / "dest");
  fs::create_directory_symlink("../outside", dir / "dest/d");
  fs::create_symlink("../outside/target", dir / "dest/f");
  craft(dir / "ok.tar.zst", {{"d", 'd', ""}, {"d/x", 'f', "mine"}, {"f", 'f', "mine"}});
  auto r = extract_archive(dir / "ok.tar.zst", dir / "dest");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(fs::is_symlink(dir / "dest/d"));
  EXPECT_FALSE(fs::is_symlink(dir / "dest/f"));
  EXPECT_EQ(test::read_file(dir / "dest/d/x"), "mine");
  EXPECT_EQ(test::read_file(dir / "dest/f"), "mine");
  EXPECT_EQ(test::read_file(dir / "outside/target"), "theirs");
  EXPECT_FALSE(fs::exists(dir / "outside/x"));
  EXPECT_EQ(fs::status(dir / "outside").permissions(), fs::perms(0700));
}

// Many entries in deep trees, into an empty and into a non-empty destination: every file there.
TEST(ArchiveReader, ExtractsDeepTreesIntoFreshAndExistingDestinations) {
  test::TempDir dir;
  std::vector<Crafted> entries{{"./top", 'd', ""}};
  for (int i = 0; i < 50; ++i) {
    const std::string d = "top/a" + std::to_string(i % 5) + "/b" + std::to_string(i % 7) + "/c";
    entries.push_back({d + "/f" + std::to_string(i), 'f', std::to_string(i)});
    entries.push_back({d + "/l" + std::to_string(i), 'l', "f" + std::to_string(i)});
  }
  entries.push_back({"top/h", 'h', "top/a0/b0/c/f0"});
  craft(dir / "deep.tar.zst", entries);
  test::write_file(dir / "existing/top/a1/mine", "mine");
  for (const auto& dest : {dir / "fresh", dir / "existing"}) {
    auto r = extract_archive(dir / "deep.tar.zst", dest);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->entries.size(), entries.size());
    EXPECT_EQ(test::read_file(dest / "top/a4/b6/c/f34"), "34");
    EXPECT_EQ(test::read_file(dest / "top/a4/b6/c/l34"), "34");
    EXPECT_EQ(test::read_file(dest / "top/h"), "0");
  }
  EXPECT_EQ(test::read_file(dir / "existing/top/a1/mine"), "mine");
  // Extracting again over the result replaces files and links in place.
  auto again = extract_archive(dir / "deep.tar.zst", dir / "fresh");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(test::read_file(dir / "fresh/top/a4/b6/c/l34"), "34");
}

TEST(ArchiveReader, ExtractsSafeLinksAndReportsHashes) {
  test::TempDir dir;
  craft(dir / "good.tar.zst", {{"./lib", 'd', ""},
                               {"lib/libx.so.1", 'f', "elf"},
                               {"lib/libx.so", 'l', "libx.so.1"},
                               {"lib/copy", 'h', "lib/libx.so.1"},
                               {"bin/../bin2/x", 'f', "no"}});
  // the last entry has '..' and must refuse the whole archive
  auto bad = extract_archive(dir / "good.tar.zst", dir / "dest");
  ASSERT_FALSE(bad);
  EXPECT_EQ(count_entries(dir / "dest"), 0U);

  craft(dir / "good2.tar.zst", {{"./lib", 'd', ""},
                                {"lib/libx.so.1", 'f', "elf"},
                                {"lib/libx.so", 'l', "libx.so.1"},
                                {"lib/copy", 'h', "lib/libx.so.1"}});
  auto r = extract_archive(dir / "good2.tar.zst", dir / "dest");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(test::read_file(dir / "dest/lib/libx.so"), "elf");
  EXPECT_EQ(test::read_file(dir / "dest/lib/copy"), "elf");
  EXPECT_EQ(r->entries.at(1).sha256, sha256_hex("elf"));
}

TEST(ArchiveReader, PreexistingFilesSurviveARefusedArchive) {
  test::TempDir dir;
  test::write_file(dir / "dest/keep/me", "mine");
  craft(dir / "evil.tar.zst",
        {{"new/a", 'f', "x"}, {"keep/b", 'f', "y"}, {"../escaped", 'f', "z"}});
  ASSERT_FALSE(extract_archive(dir / "evil.tar.zst", dir / "dest"));
  EXPECT_EQ(test::read_file(dir / "dest/keep/me"), "mine");
  EXPECT_FALSE(fs::exists(dir / "dest/new"));
  EXPECT_FALSE(fs::exists(dir / "dest/keep/b"));
}

TEST(ArchiveReader, TruncatedArchiveIsRefused) {
  test::TempDir dir;
  craft(dir / "t.tar.zst", {{"big", 'f', std::string(1 << 20, 'q')}});
  fs::resize_file(dir / "t.tar.zst", fs::file_size(dir / "t.tar.zst") / 2);
  auto r = extract_archive(dir / "t.tar.zst", dir / "dest");
  ASSERT_FALSE(r);
  EXPECT_FALSE(fs::exists(dir / "dest/big"));
}

// Single pass: the archive's own sha256 is computed from the bytes libarchive reads while it
// extracts; nothing from an archive whose bytes differ remains.
TEST(ArchiveReader, SinglePassHashMatchesTheFile) {
  test::TempDir dir;
  craft(dir / "a.tar.zst", {{"lib/x", 'f', std::string(300000, 'x')}, {"bin/y", 'f', "y"}});
  ExtractOptions o;
  o.archive_sha256 = *sha256_file_hex(dir / "a.tar.zst");
  auto r = extract_archive(dir / "a.tar.zst", dir / "dest", o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->archive_sha256, o.archive_sha256);
  EXPECT_EQ(test::read_file(dir / "dest/bin/y"), "y");
}

TEST(ArchiveReader, TamperedTarballDuringSinglePassExtractionLeavesNothing) {
  test::TempDir dir;
  test::write_file(dir / "dest/keep/me", "mine");
  craft(dir / "a.tar.zst", {{"lib/x", 'f', std::string(300000, 'x')}, {"keep/y", 'f', "y"}});
  const std::string signed_sha = *sha256_file_hex(dir / "a.tar.zst");
  const auto check_nothing_left = [&] {
    EXPECT_EQ(test::read_file(dir / "dest/keep/me"), "mine");
    EXPECT_FALSE(fs::exists(dir / "dest/lib"));
    EXPECT_FALSE(fs::exists(dir / "dest/keep/y"));
    EXPECT_EQ(count_entries(dir / "dest"), 2U);
  };
  ExtractOptions o;
  o.archive_sha256 = signed_sha;
  // 1. Bytes appended after the end of the archive: every entry decodes, only the hash differs.
  fs::copy_file(dir / "a.tar.zst", dir / "appended.tar.zst");
  std::ofstream(dir / "appended.tar.zst", std::ios::binary | std::ios::app) << "trailing";
  auto r = extract_archive(dir / "appended.tar.zst", dir / "dest", o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("differs from the expected " + signed_sha), std::string::npos)
      << r.error().message;
  check_nothing_left();
  // 2. A valid archive that is not the signed one (another tree): extracts cleanly, then refused.
  craft(dir / "other.tar.zst", {{"lib/x", 'f', std::string(300000, 'z')}, {"keep/y", 'f', "y"}});
  r = extract_archive(dir / "other.tar.zst", dir / "dest", o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("tampered or corrupt"), std::string::npos) << r.error().message;
  check_nothing_left();
  // 3. A byte flipped inside the compressed stream.
  fs::copy_file(dir / "a.tar.zst", dir / "flipped.tar.zst");
  {
    std::fstream f(dir / "flipped.tar.zst", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(dir / "a.tar.zst") / 2));
    f.put('Z');
  }
  r = extract_archive(dir / "flipped.tar.zst", dir / "dest", o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("flipped.tar.zst"), std::string::npos) << r.error().message;
  check_nothing_left();
  // The signed bytes themselves extract.
  ASSERT_TRUE(extract_archive(dir / "a.tar.zst", dir / "dest", o));
  EXPECT_EQ(test::read_file(dir / "dest/keep/y"), "y");
}

TEST(ArchiveReader, AcceptHookRefusalRemovesTheExtraction) {
  test::TempDir dir;
  craft(dir / "a.tar.zst", {{"lib/x", 'f', "x"}});
  ExtractOptions o;
  o.accept = [](const ExtractResult& r) {
    return r.entries.size() == 1 ? std::string("not wanted") : std::string();
  };
  auto r = extract_archive(dir / "a.tar.zst", dir / "dest", o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not wanted"), std::string::npos);
  EXPECT_EQ(count_entries(dir / "dest"), 0U);
}

// Issue 12 item 14: no setuid, setgid, sticky or world-writable mode on disk, whatever the archive
// says (and whoever runs the extraction: as root libarchive would restore a setuid root file), and
// every file belongs to the running user, never to the archive's uid/gid 0.
TEST(ArchiveReader, DangerousModesAreClearedAndTheOwnerIsTheRunningUser) {
  test::TempDir dir;
  craft(dir / "modes.tar.zst", {{"bin", 'd', "", 0777},
                                {"bin/su", 'f', "#!/bin/sh\n", 04755},
                                {"bin/sg", 'f', "#!/bin/sh\n", 02711},
                                {"share", 'd', "", 01777},
                                {"share/open", 'f', "anyone", 0666},
                                {"share/plain", 'f', "mine", 0640}});
  auto r = extract_archive(dir / "modes.tar.zst", dir / "dest");
  ASSERT_TRUE(r) << r.error().message;
  const auto mode_of = [&](const char* rel) {
    struct stat st {};
    EXPECT_EQ(::lstat((dir / "dest" / rel).c_str(), &st), 0) << rel;
    EXPECT_EQ(st.st_uid, ::geteuid()) << rel;
    EXPECT_EQ(st.st_gid, ::getegid()) << rel;
    return static_cast<unsigned>(st.st_mode & 07777);
  };
  EXPECT_EQ(mode_of("bin"), 0775U);
  EXPECT_EQ(mode_of("bin/su"), 0755U);
  EXPECT_EQ(mode_of("bin/sg"), 0711U);
  EXPECT_EQ(mode_of("share"), 0777U & ~0002U);
  EXPECT_EQ(mode_of("share/open"), 0664U);
  EXPECT_EQ(mode_of("share/plain"), 0640U);
  for (const auto& e : r->entries) {
    EXPECT_EQ(e.mode & 07002U, 0U) << e.path << " reported with mode " << std::oct << e.mode;
  }
  EXPECT_EQ(safe_extracted_mode(04755), 0755U);
  EXPECT_EQ(safe_extracted_mode(01777), 0775U);
}

// Issue 12 item 12: a small archive declaring a huge file (300 MiB of zeros, a few KiB
// compressed) stops at the cap before one byte of it is written; the error names the archive and
// the cap; nothing is left.
TEST(ArchiveReader, ABombIsRefusedAtTheSizeCapBeforeItIsWritten) {
  test::TempDir dir;
  craft(dir / "bomb.tar.zst",
        {{"ok/first", 'f', "fine"}, {"ok/zeros", 'z', "", 0, std::uint64_t{300} << 20}});
  ASSERT_LT(fs::file_size(dir / "bomb.tar.zst"), 64U << 10);
  ExtractOptions o;
  o.max_bytes = 64ULL << 20;
  auto r = extract_archive(dir / "bomb.tar.zst", dir / "dest", o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find((dir / "bomb.tar.zst").string()), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("ok/zeros"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("extraction cap of 64.0 MiB"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(count_entries(dir / "dest"), 0U);
  // Under the default cap the same archive extracts (a real 300 MiB file is no bomb by itself).
  o.max_bytes = kDefaultMaxExtractBytes;
  craft(dir / "small.tar.zst", {{"ok/zeros", 'z', "", 0, std::uint64_t{3} << 20}});
  ASSERT_TRUE(extract_archive(dir / "small.tar.zst", dir / "dest", o));
  EXPECT_EQ(fs::file_size(dir / "dest/ok/zeros"), 3U << 20);
}

// Many files each under the cap, together over it: stopped at the one that crosses it, and the
// files written before it are removed again.
TEST(ArchiveReader, TheCapIsOnTheTotalAndOnTheEntryCount) {
  test::TempDir dir;
  std::vector<Crafted> files;
  for (int i = 0; i < 10; ++i) {
    files.push_back({"f" + std::to_string(i), 'z', "", 0, std::uint64_t{1} << 20});
  }
  craft(dir / "many.tar.zst", files);
  ExtractOptions o;
  o.max_bytes = (5ULL << 20) + 10;
  auto r = extract_archive(dir / "many.tar.zst", dir / "dest", o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("entry 'f5'"), std::string::npos) << r.error().message;
  EXPECT_EQ(count_entries(dir / "dest"), 0U);

  o.max_bytes = kDefaultMaxExtractBytes;
  o.max_entries = 7;
  r = extract_archive(dir / "many.tar.zst", dir / "dest", o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("entry 'f7'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("cap of 7 entries"), std::string::npos) << r.error().message;
  EXPECT_EQ(count_entries(dir / "dest"), 0U);
  o.max_entries = 10;
  ASSERT_TRUE(extract_archive(dir / "many.tar.zst", dir / "dest", o));
}

// Links inside stay fine, also through other links, dangling or not.
TEST(ArchiveReader, LinksThroughLinksThatStayInsideAreKept) {
  test::TempDir dir;
  craft(dir / "ok.tar.zst", {{"view/lib/libx.so.1", 'f', "elf"},
                             {"view/lib64", 'l', "lib"},
                             {"view/p/q", 'd', ""},
                             {"view/p/q/d", 'l', "../.."},
                             {"view/p/q/e", 'l', "d/lib64/libx.so.1"},
                             {"view/p/q/later", 'l', "d/not/yet/../../here"}});
  auto r = extract_archive(dir / "ok.tar.zst", dir / "dest");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(test::read_file(dir / "dest/view/p/q/e"), "elf");
}

TEST(EntryPaths, SafeAndUnsafe) {
  EXPECT_TRUE(is_safe_entry_path("a/b.c"));
  EXPECT_TRUE(is_safe_entry_path("a..b"));
  EXPECT_FALSE(is_safe_entry_path("/a"));
  EXPECT_FALSE(is_safe_entry_path("a/../b"));
  EXPECT_FALSE(is_safe_entry_path(""));
  EXPECT_TRUE(symlink_stays_inside("lib/x.so", "x.so.1"));
  EXPECT_TRUE(symlink_stays_inside("lib/x", "../bin/y"));
  EXPECT_FALSE(symlink_stays_inside("lib/x", "../../y"));
  EXPECT_FALSE(symlink_stays_inside("x", "/etc/passwd"));
}

}  // namespace
}  // namespace sf
