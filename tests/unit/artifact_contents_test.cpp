#include "artifact/artifact_contents.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

TEST(ArtifactContents, CountsEntriesAndBytesAndListsDangerousModes) {
  test::TempDir dir;
  test::write_file(dir / "root/view/bin/su", "12345");
  test::write_file(dir / "root/view/share/open", "abc");
  test::write_file(dir / "root/view/share/plain", "");
  fs::create_directories(dir / "root/view/tmp");
  fs::create_symlink("su", dir / "root/view/bin/link");         // 0777 means nothing for a link
  fs::create_directory_symlink("/etc", dir / "root/view/etc");  // not followed
  ASSERT_EQ(::chmod((dir / "root/view/bin/su").c_str(), 04755), 0);
  ASSERT_EQ(::chmod((dir / "root/view/share/open").c_str(), 0666), 0);
  ASSERT_EQ(::chmod((dir / "root/view/share/plain").c_str(), 0600), 0);
  ASSERT_EQ(::chmod((dir / "root/view/tmp").c_str(), 03777), 0);
  auto c = survey_artifact_tree(dir / "root");
  ASSERT_TRUE(c) << c.error().message;
  // view, view/bin, su, link, view/share, open, plain, view/tmp, view/etc
  EXPECT_EQ(c->entries, 9U);
  EXPECT_EQ(c->bytes, 8U);
  ASSERT_EQ(c->mode_resets.size(), 3U);
  std::vector<std::string> lines;
  for (const auto& r : c->mode_resets) lines.push_back(describe_mode_reset(r));
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines[0], "view/bin/su: mode 4755 (setuid) packaged as 0755");
  EXPECT_EQ(lines[1], "view/share/open: mode 0666 (world-writable) packaged as 0644");
  EXPECT_EQ(lines[2], "view/tmp: mode 3777 (setgid, sticky, world-writable) packaged as 0755");

  ArtifactContents back;
  ASSERT_TRUE(contents_from_json(contents_json(*c), back));
  EXPECT_EQ(back.entries, 9U);
  EXPECT_EQ(back.bytes, 8U);
  EXPECT_FALSE(contents_from_json(nlohmann::json{{"entries", -1}, {"bytes", 3}}, back));
  EXPECT_FALSE(contents_from_json(nlohmann::json::array(), back));
}

}  // namespace
}  // namespace sf
