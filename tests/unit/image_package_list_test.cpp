#include "toolchains/image_package_list.hpp"

#include <gtest/gtest.h>

namespace sf {
namespace {

TEST(ImagePackageList, SortedUniqueAndHashed) {
  auto a = parse_image_package_list("zlib1g:amd64=1:1.3\nbash:amd64=5.2-1\n\nbash:amd64=5.2-1\n");
  EXPECT_EQ(a.packages, (std::vector<std::string>{"bash:amd64=5.2-1", "zlib1g:amd64=1:1.3"}));
  auto b = parse_image_package_list("bash:amd64=5.2-1\nzlib1g:amd64=1:1.3\n");
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.sha256.size(), 64U);
  auto c = parse_image_package_list("bash:amd64=5.2-2\nzlib1g:amd64=1:1.3\n");
  EXPECT_NE(a.sha256, c.sha256);
}

TEST(ImagePackageList, IdentityChangesWithTheListNotOnlyTheDefinition) {
  auto a = parse_image_package_list("bash:amd64=5.2-1\n");
  auto b = parse_image_package_list("bash:amd64=5.2-2\n");
  EXPECT_NE(image_identity("def", a), image_identity("def", b));
  EXPECT_NE(image_identity("def", a), image_identity("other", a));
  EXPECT_EQ(image_identity("def", a), image_identity("def", a));
}

TEST(ImagePackageList, ChangesNameEachPackageThatMoved) {
  const auto changes =
      package_list_changes({"bash:amd64=5.2-1", "gcc-14:amd64=14.2.0-19", "old:amd64=1"},
                           {"bash:amd64=5.2-1", "gcc-14:amd64=14.2.0-20", "new:amd64=2"});
  EXPECT_EQ(changes, (std::map<std::string, std::string>{{"gcc-14:amd64", "14.2.0-19 -> 14.2.0-20"},
                                                         {"new:amd64", "(absent) -> 2"},
                                                         {"old:amd64", "1 -> (absent)"}}));
  EXPECT_TRUE(package_list_changes({"a=1"}, {"a=1"}).empty());
}

TEST(ImagePackageList, QueryCoversDpkgAndRpm) {
  const std::string s = image_package_query_script();
  EXPECT_NE(s.find("dpkg-query -W"), std::string::npos);
  EXPECT_NE(s.find("rpm -qa"), std::string::npos);
  EXPECT_NE(s.find("/work/packages.txt"), std::string::npos);
}

}  // namespace
}  // namespace sf
