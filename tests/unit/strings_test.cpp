// The core's one copy of each small helper: join, trim, trim_end, replace_all (support/strings) and
// env (support/environment).
#include "support/strings.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <set>
#include <string>
#include <vector>

#include "support/environment.hpp"

namespace sf {
namespace {

TEST(Strings, JoinPutsTheSeparatorBetweenItems) {
  EXPECT_EQ(join(std::vector<std::string>{"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(join(std::vector<std::string>{"a", "b"}, "/"), "a/b");
  EXPECT_EQ(join(std::set<std::string>{"b", "a"}, " "), "a b");
  EXPECT_EQ(join(std::vector<std::string>{}), "");
}

TEST(Strings, JoinLeavesNoSeparatorForLeadingEmptyItems) {
  EXPECT_EQ(join(std::vector<std::string>{"", "a", "", "b"}, ","), "a,,b");
}

TEST(Strings, TrimRemovesWhiteSpaceAtBothEnds) {
  EXPECT_EQ(trim(" \t>= 1.2 \n"), ">= 1.2");
  EXPECT_EQ(trim("  "), "");
}

TEST(Strings, TrimEndRemovesOnlyTheGivenCharactersAtTheEnd) {
  EXPECT_EQ(trim_end(" configure \n\n", "\n "), " configure");
  EXPECT_EQ(trim_end("make\t\n", "\n "), "make\t");
}

TEST(Strings, ReplaceAllNeverSearchesAReplacementAgain) {
  EXPECT_EQ(replace_all("-j${jobs} ${jobs}", "${jobs}", "4"), "-j4 4");
  EXPECT_EQ(replace_all("aa", "a", "aa"), "aaaa");
  EXPECT_EQ(replace_all("abc", "x", "y"), "abc");
}

TEST(Environment, UnsetIsEmpty) {
  ::setenv("SF_STRINGS_TEST_VAR", "value", 1);
  EXPECT_EQ(env("SF_STRINGS_TEST_VAR"), "value");
  ::unsetenv("SF_STRINGS_TEST_VAR");
  EXPECT_EQ(env("SF_STRINGS_TEST_VAR"), "");
}

}  // namespace
}  // namespace sf
