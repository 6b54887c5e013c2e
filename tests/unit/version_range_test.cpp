#include "recipes/version_range.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

const std::vector<std::string> kSlurm{"22.05.8", "23.11.11", "24.11.5",
                                      "24.11.6", "25.11.6",  "26.05.0"};

TEST(Version, OrdersNumericallyNotLexically) {
  EXPECT_LT(Version::parse("23.11.9"), Version::parse("23.11.11"));
  EXPECT_LT(Version::parse("2.9.0"), Version::parse("2.12.0"));
  EXPECT_EQ(Version::parse("24.11"), Version::parse("24.11.0"));
  EXPECT_LT(Version::parse("1.0rc1"), Version::parse("1.0"));
}

TEST(Version, RejectsGarbage) {
  EXPECT_THROW(Version::parse(""), std::invalid_argument);
  EXPECT_THROW(Version::parse("v24"), std::invalid_argument);
  EXPECT_THROW(Version::parse("24.11."), std::invalid_argument);
}

TEST(VersionRange, SeriesAndExact) {
  auto r = VersionRange::parse("24.11");
  EXPECT_TRUE(r.contains("24.11.5"));
  EXPECT_TRUE(r.contains("24.11.6"));
  EXPECT_FALSE(r.contains("24.1.5"));
  EXPECT_FALSE(r.contains("25.11.6"));
  auto exact = VersionRange::parse("==24.11.5");
  EXPECT_TRUE(exact.contains("24.11.5"));
  EXPECT_FALSE(exact.contains("24.11.6"));
}

TEST(VersionRange, PartialBoundsMeanTheSeries) {
  // --with-http-parser up to 25.11, --with-libhttp-parser from 26.05.
  auto upto = VersionRange::parse("<=25.11");
  auto from = VersionRange::parse(">=26.05");
  EXPECT_TRUE(upto.contains("25.11.6"));
  EXPECT_FALSE(upto.contains("26.05.0"));
  EXPECT_TRUE(from.contains("26.05.0"));
  EXPECT_FALSE(from.contains("25.11.6"));
  EXPECT_FALSE(VersionRange::parse(">23.11").contains("23.11.11"));
  EXPECT_TRUE(VersionRange::parse(">23.11").contains("24.11.5"));
  EXPECT_FALSE(VersionRange::parse("<24.11").contains("24.11.0"));
  EXPECT_TRUE(VersionRange::parse("<24.11").contains("23.11.11"));
}

TEST(VersionRange, ClausesCombineWithAnd) {
  auto r = VersionRange::parse(">=23.11, <26.05, !=24.11");
  EXPECT_FALSE(r.contains("22.05.8"));
  EXPECT_TRUE(r.contains("23.11.11"));
  EXPECT_FALSE(r.contains("24.11.5"));
  EXPECT_TRUE(r.contains("25.11.6"));
  EXPECT_FALSE(r.contains("26.05.0"));
  EXPECT_TRUE(VersionRange::parse("*").contains("1.2.3"));
  EXPECT_TRUE(VersionRange().contains("0.1"));
}

TEST(VersionRange, BadClausesAreNamed) {
  try {
    (void)VersionRange::parse(">=23.11,,<26");
    FAIL() << "expected a throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("empty clause"), std::string::npos) << e.what();
  }
  try {
    (void)VersionRange::parse(">=abc");
    FAIL() << "expected a throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(">=abc"), std::string::npos) << e.what();
  }
}

TEST(ResolveVersion, SeriesMeansNewestPatch) {
  EXPECT_EQ(resolve_version("24.11", kSlurm), "24.11.6");
  EXPECT_EQ(resolve_version("24.11.5", kSlurm), "24.11.5");
  EXPECT_EQ(resolve_version("23.11", kSlurm), "23.11.11");
  EXPECT_EQ(resolve_version("latest", kSlurm), "26.05.0");
  EXPECT_EQ(resolve_version("25", kSlurm), "25.11.6");
}

TEST(ResolveVersion, UnknownListsTheKnownOnes) {
  try {
    (void)resolve_version("24.05", kSlurm);
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("24.05"), std::string::npos);
    EXPECT_EQ(e.context_value("known versions"),
              "22.05.8, 23.11.11, 24.11.5, 24.11.6, 25.11.6, 26.05.0");
  }
  EXPECT_THROW((void)resolve_version("24.11.99", kSlurm), UsageError);
  EXPECT_THROW((void)resolve_version("x", kSlurm), UsageError);
}

}  // namespace
}  // namespace sf
