// What a build container answers about the packages of system libraries is hostile: only plain
// names and versions are taken. The real query (dpkg-query in a trixie image): tests/e2e/deb.sh.
#include "containers/system_library_owners.hpp"

#include <gtest/gtest.h>

TEST(SystemLibraryOwners, TakesPlainAnswers) {
  auto p = sf::parse_owner_line("owner libpam.so.0 libpam0g 1.7.0-5");
  EXPECT_EQ(p.soname, "libpam.so.0");
  EXPECT_EQ(p.package, "libpam0g");
  EXPECT_EQ(p.version, "1.7.0-5");
  p = sf::parse_owner_line("owner libz.so.1 zlib1g 1:1.3.dfsg+really1.3.1-1");
  EXPECT_EQ(p.version, "1:1.3.dfsg+really1.3.1-1");
  p = sf::parse_owner_line("owner libc.so.6 glibc 2.34-100.el9");  // rpm
  EXPECT_EQ(p.package, "glibc");
}

TEST(SystemLibraryOwners, AnUnknownOwnerKeepsTheSoname) {
  const auto p = sf::parse_owner_line("owner libfoo.so.1 - -");
  EXPECT_EQ(p.soname, "libfoo.so.1");
  EXPECT_EQ(p.package, "");
  EXPECT_EQ(p.version, "");
}

TEST(SystemLibraryOwners, RefusesWhatIsNotPlain) {
  for (const char* line :
       {"owner libc.so.6 libc6 2.41 extra", "owner ../x libc6 1", "owner libc.so.6 libc6;rm 1",
        "owner libc.so.6 libc6 1$(id)", "owner libc.so.6 'libc6' 1", "found libc.so.6 libc6 1",
        "owner libc.so.6 libc6 2.41\tx", ""}) {
    EXPECT_EQ(sf::parse_owner_line(line).package, "") << line;
  }
  EXPECT_EQ(sf::parse_owner_line("owner ../x libc6 1").soname, "");
}
