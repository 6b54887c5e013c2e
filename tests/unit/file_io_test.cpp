// write_file_atomically replaces a file whole or not at all; to_hex spells digests.
#include "slurm_factory/core/file_io.hpp"

#include <gtest/gtest.h>

#include "../support/temp_dir.hpp"

namespace fs = std::filesystem;

TEST(FileIo, WritesAtomicallyAndLeavesNoTempFile) {
  sf::test::TempDir dir;
  const fs::path f = dir.path() / "a.txt";
  sf::test::write_file(f, "old");
  EXPECT_EQ(sf::write_file_atomically(f, "new\n"), "");
  EXPECT_EQ(sf::test::read_file(f), "new\n");
  EXPECT_FALSE(fs::exists(dir.path() / "a.txt.tmp"));
}

TEST(FileIo, AFailedWriteSaysWhatAndKeepsTheOldFile) {
  sf::test::TempDir dir;
  const fs::path target = dir.path() / "is-a-dir";
  fs::create_directories(target / "child");  // a non-empty directory cannot be renamed over
  const std::string problem = sf::write_file_atomically(target, "x");
  EXPECT_NE(problem.find("cannot rename"), std::string::npos) << problem;
  EXPECT_TRUE(fs::is_directory(target / "child"));
  EXPECT_FALSE(fs::exists(dir.path() / "is-a-dir.tmp"));
  EXPECT_NE(sf::write_file_atomically(dir.path() / "missing/dir/f", "x").find("cannot write"),
            std::string::npos);
}

TEST(FileIo, ToHex) {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(sf::to_hex(bytes, sizeof bytes), "000fa5ff");
  EXPECT_EQ(sf::to_hex(bytes, 0), "");
}
