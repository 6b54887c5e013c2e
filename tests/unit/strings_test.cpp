// The core's one copy of each small helper: join, trim, trim_end, replace_all (support/strings) and
// env, env_if_set (slurm_factory/environment.hpp, implemented in support/environment.cpp).
#include "support/strings.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "slurm_factory/environment.hpp"

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

TEST(Environment, IfSetTellsEmptyFromUnset) {
  ::unsetenv("SF_STRINGS_TEST_VAR");
  EXPECT_EQ(env_if_set("SF_STRINGS_TEST_VAR"), std::nullopt);
  ::setenv("SF_STRINGS_TEST_VAR", "", 1);
  ASSERT_TRUE(env_if_set("SF_STRINGS_TEST_VAR").has_value());
  EXPECT_EQ(*env_if_set("SF_STRINGS_TEST_VAR"), "");
  ::setenv("SF_STRINGS_TEST_VAR", "v", 1);
  EXPECT_EQ(env_if_set("SF_STRINGS_TEST_VAR"), std::optional<std::string>("v"));
  ::unsetenv("SF_STRINGS_TEST_VAR");
}

TEST(Environment, OrFallsBackWhenUnsetOrEmpty) {
  ::unsetenv("SF_STRINGS_TEST_VAR");
  EXPECT_EQ(env_or("SF_STRINGS_TEST_VAR", "fallback"), "fallback");
  ::setenv("SF_STRINGS_TEST_VAR", "", 1);
  EXPECT_EQ(env_or("SF_STRINGS_TEST_VAR", "fallback"), "fallback");
  ::setenv("SF_STRINGS_TEST_VAR", "set", 1);
  EXPECT_EQ(env_or("SF_STRINGS_TEST_VAR", "fallback"), "set");
  ::unsetenv("SF_STRINGS_TEST_VAR");
}

}  // namespace
}  // namespace sf
