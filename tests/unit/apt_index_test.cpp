#include "apt_index.hpp"

#include <gtest/gtest.h>

namespace deb = sf::deb;

namespace {

deb::Stanza stanza(const std::string& package, const std::string& version,
                   const std::string& arch) {
  deb::Stanza s;
  s.set("Package", package);
  s.set("Version", version);
  s.set("Architecture", arch);
  return s;
}

}  // namespace

TEST(AptIndex, ParsesAndFormatsStanzasWithContinuationLines) {
  const std::string text =
      "Package: a\nVersion: 1\nDescription: one\n line two\n .\n\nPackage: b\nVersion: 2\n";
  auto parsed = deb::parse_stanzas(text);
  ASSERT_TRUE(parsed.has_value());
  ASSERT_EQ(parsed->size(), 2U);
  EXPECT_EQ((*parsed)[0].get("description"), "one\n line two\n .");
  EXPECT_EQ((*parsed)[1].get("Version"), "2");
  EXPECT_EQ(deb::format_stanzas(*parsed),
            "Package: a\nVersion: 1\nDescription: one\n line two\n .\n\nPackage: b\nVersion: 2\n");
}

TEST(AptIndex, RefusesWhatIsNotDeb822) {
  EXPECT_FALSE(deb::parse_stanzas(" continuation first\n").has_value());
  EXPECT_FALSE(deb::parse_stanzas("no colon here\n").has_value());
  EXPECT_FALSE(deb::parse_stanzas("Bad Name: x\n").has_value());
  EXPECT_FALSE(deb::parse_stanzas(std::string("Package: a\0b\n", 13)).has_value());
  EXPECT_TRUE(deb::parse_stanzas("").has_value());
}

TEST(AptIndex, PackageStanzaAddsPoolFileAndDigests) {
  auto s = deb::package_stanza(
      "Package: slurm-factory-slurmd\nVersion: 24.11.5-1+trixie\n"
      "Architecture: amd64\n",
      "pool/main/s/slurm-factory-slurmd/x.deb", 42, "m", "s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->get("Filename"), "pool/main/s/slurm-factory-slurmd/x.deb");
  EXPECT_EQ(s->get("Size"), "42");
  EXPECT_EQ(s->get("SHA256"), "s");
  EXPECT_FALSE(deb::package_stanza("Package: x\n", "f", 1, "m", "s").has_value());
  EXPECT_FALSE(deb::package_stanza("Package: x\nVersion: 1\nArchitecture: all\n\nPackage: y\n", "f",
                                   1, "m", "s")
                   .has_value());
}

TEST(AptIndex, MergeKeepsOtherVersionsArchesAndFlavours) {
  auto old_slurmd = stanza("slurm-factory-slurmd", "22.05.8-1+bookworm", "amd64");
  auto arm = stanza("slurm-factory-slurmd", "24.11.5-1+bookworm", "arm64");
  auto cuda = stanza("slurm-factory-cuda-slurmd", "24.11.5-1+bookworm", "amd64");
  auto same = stanza("slurm-factory-slurmd", "24.11.5-1+bookworm", "amd64");
  same.set("SHA256", "old");
  auto added = stanza("slurm-factory-slurmd", "24.11.5-1+bookworm", "amd64");
  added.set("SHA256", "new");
  const auto merged = deb::merge_packages({old_slurmd, arm, cuda, same}, {added});
  ASSERT_EQ(merged.size(), 4U);
  EXPECT_EQ(merged[0].get("Package"), "slurm-factory-cuda-slurmd");
  EXPECT_EQ(merged[1].get("Version"), "22.05.8-1+bookworm");
  EXPECT_EQ(merged[2].get("SHA256"), "new");  // the same package, version and arch: replaced
  EXPECT_EQ(merged[3].get("Architecture"), "arm64");
}

TEST(AptIndex, PoolKeysFollowDebian) {
  EXPECT_EQ(deb::pool_key("slurm-factory-common", "f.deb"),
            "pool/main/s/slurm-factory-common/f.deb");
  EXPECT_EQ(deb::pool_key("libslurm", "f.deb"), "pool/main/libs/libslurm/f.deb");
}

TEST(AptIndex, ReleaseRoundTripsAndRefusesBadLines) {
  deb::ReleaseInfo info;
  info.codename = "trixie";
  info.architectures = {"arm64", "amd64", "amd64"};
  info.files["main/binary-amd64/Packages"] = {12, std::string(32, 'a'), std::string(64, 'b')};
  const std::string text = deb::release_text(info, 0);
  EXPECT_NE(text.find("Codename: trixie\n"), std::string::npos);
  EXPECT_NE(text.find("Date: Thu, 01 Jan 1970 00:00:00 UTC\n"), std::string::npos);
  EXPECT_NE(text.find("Architectures: amd64 arm64\n"), std::string::npos);
  auto back = deb::parse_release(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->codename, "trixie");
  EXPECT_EQ(back->files.at("main/binary-amd64/Packages").size, 12U);
  EXPECT_EQ(back->files.at("main/binary-amd64/Packages").sha256, std::string(64, 'b'));
  EXPECT_FALSE(deb::parse_release("Suite: x\n").has_value());
  EXPECT_FALSE(deb::parse_release("Codename: x\nSHA256:\n zz 1 main/P\n").has_value());
  EXPECT_FALSE(
      deb::parse_release("Codename: x\nSHA256:\n " + std::string(64, 'a') + " 1 ../../etc\n")
          .has_value());
}
