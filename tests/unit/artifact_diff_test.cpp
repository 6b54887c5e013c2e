#include "artifact/artifact_diff.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "../support/temp_dir.hpp"
#include "formats/elf_reader.hpp"
#include "slurm_factory/archive_writer.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {
using test::TempDir;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// A copy of a real ELF file (this test's own executable) with one byte of `section` changed.
fs::path elf_with_changed_section(const fs::path& dir, const std::string& name,
                                  const std::string& section) {
  const fs::path copy = dir / name;
  fs::create_directories(dir);
  fs::copy_file("/proc/self/exe", copy, fs::copy_options::overwrite_existing);
  if (section.empty()) return copy;
  auto info = read_elf(copy);
  EXPECT_TRUE(info);
  for (const auto& s : info->sections) {
    if (s.name != section || s.size == 0) continue;
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(s.offset + s.size / 2));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(s.offset + s.size / 2));
    f.put(static_cast<char>(c ^ 0x5a));
    return copy;
  }
  ADD_FAILURE() << "no section " << section;
  return copy;
}

TEST(ArtifactDiff, SameTreeTwiceIsIdentical) {
  TempDir tmp;
  write(tmp / "a/view/bin/tool", "same");
  write(tmp / "a/view/share/doc.txt", "text");
  ASSERT_TRUE(write_archive(tmp / "a", tmp / "one.tar.zst"));
  ASSERT_TRUE(write_archive(tmp / "a", tmp / "two.tar.zst"));
  auto c = compare_archives(tmp / "one.tar.zst", tmp / "two.tar.zst", tmp / "scratch");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->same_bytes());
  EXPECT_TRUE(c->same_contents());
  EXPECT_EQ(c->entries, 5U);  // view, view/bin, view/bin/tool, view/share, view/share/doc.txt
}

TEST(ArtifactDiff, NamesTheOneFileThatDiffersWithItsSizes) {
  TempDir tmp;
  write(tmp / "a/view/bin/tool", "same");
  write(tmp / "a/view/share/doc.txt", "built on: Sat Dec 5 12:15:28 2026");
  write(tmp / "b/view/bin/tool", "same");
  write(tmp / "b/view/share/doc.txt", "built on: Tue Jul 1 12:00:00 2025 UTC");
  ASSERT_TRUE(write_archive(tmp / "a", tmp / "a.tar.zst"));
  ASSERT_TRUE(write_archive(tmp / "b", tmp / "b.tar.zst"));
  auto c = compare_archives(tmp / "a.tar.zst", tmp / "b.tar.zst", tmp / "scratch");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->same_bytes());
  ASSERT_EQ(c->differences.size(), 1U) << format_differences(*c);
  const auto& d = c->differences[0];
  EXPECT_EQ(d.path, "view/share/doc.txt");
  EXPECT_EQ(d.kind, "content");
  EXPECT_EQ(d.expected_size, 33U);
  EXPECT_EQ(d.rebuilt_size, 37U);
  EXPECT_TRUE(d.sections.empty());  // not ELF
  EXPECT_EQ(format_differences(*c), "  view/share/doc.txt  content  33 -> 37 bytes\n");
}

TEST(ArtifactDiff, FilesOnlyInOneArchive) {
  TempDir tmp;
  write(tmp / "a/x", "1");
  write(tmp / "a/gone", "2");
  write(tmp / "b/x", "1");
  write(tmp / "b/new", "3");
  ASSERT_TRUE(write_archive(tmp / "a", tmp / "a.tar.zst"));
  ASSERT_TRUE(write_archive(tmp / "b", tmp / "b.tar.zst"));
  auto c = compare_archives(tmp / "a.tar.zst", tmp / "b.tar.zst", tmp / "scratch");
  ASSERT_TRUE(c);
  ASSERT_EQ(c->differences.size(), 2U);
  EXPECT_EQ(c->differences[0].path, "gone");
  EXPECT_EQ(c->differences[0].kind, "only in expected");
  EXPECT_EQ(c->differences[1].path, "new");
  EXPECT_EQ(c->differences[1].kind, "only in rebuilt");
}

TEST(ArtifactDiff, ElfSectionThatDiffers) {
  TempDir tmp;
  const fs::path a = elf_with_changed_section(tmp / "a/view/lib", "libx.so", "");
  const fs::path b = elf_with_changed_section(tmp / "b/view/lib", "libx.so", ".rodata");
  auto s = differing_elf_sections(a, b);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*s, std::vector<std::string>{".rodata"});
  auto same = differing_elf_sections(a, a);
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->empty());

  // Through the archives: the file, and its section.
  ASSERT_TRUE(write_archive(tmp / "a", tmp / "a.tar.zst"));
  ASSERT_TRUE(write_archive(tmp / "b", tmp / "b.tar.zst"));
  auto c = compare_archives(tmp / "a.tar.zst", tmp / "b.tar.zst", tmp / "scratch");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->differences.size(), 1U) << format_differences(*c);
  EXPECT_EQ(c->differences[0].path, "view/lib/libx.so");
  EXPECT_EQ(c->differences[0].sections, std::vector<std::string>{".rodata"});
  EXPECT_NE(format_differences(*c).find("sections: .rodata"), std::string::npos);
}

TEST(ArtifactDiff, NotElfIsAFailure) {
  TempDir tmp;
  write(tmp / "x", "plain");
  EXPECT_FALSE(differing_elf_sections(tmp / "x", tmp / "x"));
}

}  // namespace
}  // namespace sf
