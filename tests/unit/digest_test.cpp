#include "slurm_factory/digest.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "../support/temp_dir.hpp"

namespace sf {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  test::TempDir dir;
  std::ofstream(dir / "f", std::ios::binary) << "xxabcxx";
  auto h = sha256_file_hex(dir / "f", 2, 3);
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, sha256_hex("abc"));
}

TEST(Sha256, WholeFileAndMissingFile) {
  test::TempDir dir;
  std::ofstream(dir / "f", std::ios::binary) << "xxabcxx";
  EXPECT_EQ(*sha256_file_hex(dir / "f"), sha256_hex("xxabcxx"));
  auto missing = sha256_file_hex(dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot read"), std::string::npos);
}

TEST(Sha256, StreamingMatchesOneShotAndStartsOverAfterHex) {
  Sha256 s;
  s.update("ab");
  s.update(std::string_view("c"));
  EXPECT_EQ(s.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(s.hex(), sha256_hex(""));
  s.update("junk");
  s.reset();
  s.update("abc");
  EXPECT_EQ(s.hex(), sha256_hex("abc"));
}

}  // namespace
}  // namespace sf
