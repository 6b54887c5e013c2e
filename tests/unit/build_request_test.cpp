#include "config/build_request.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "slurm_factory/errors.hpp"

TEST(BuildRequest, PackagersStartWithTheTarballEachOnce) {
  EXPECT_EQ(sf::parse_packagers({}, "--packager"), std::vector<std::string>{"tarball"});
  EXPECT_EQ(sf::parse_packagers({"deb,rpm", "deb", "tarball"}, "--packager"),
            (std::vector<std::string>{"tarball", "deb", "rpm"}));
  EXPECT_EQ(sf::parse_packagers({",deb,"}, "--packager"),
            (std::vector<std::string>{"tarball", "deb"}));
  for (const std::string bad : {"../deb", "Deb", "deb rpm", "deb\n"}) {
    EXPECT_THROW(sf::parse_packagers({bad}, "--packager"), sf::UsageError) << bad;
  }
}

TEST(BuildRequest, TheJsonNamesThePackagers) {
  sf::BuildRequest r;
  r.packagers = {"tarball", "deb"};
  EXPECT_EQ(r.to_json()["packagers"], (nlohmann::json{"tarball", "deb"}));
}
