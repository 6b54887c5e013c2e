// packagers.oci: defaults, every refusal naming its key, and the image tag.
#include "oci_settings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "slurm_factory/errors.hpp"

namespace {

using ::testing::HasSubstr;

std::string refusal(const nlohmann::json& settings) {
  try {
    sf::oci::parse_oci_settings(settings);
  } catch (const sf::ConfigurationError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(OciSettings, DefaultsMakeEveryRoleWithNoRegistry) {
  const auto s = sf::oci::parse_oci_settings(nullptr);
  EXPECT_EQ(s.roles,
            (std::vector<std::string>{"slurmctld", "slurmd", "slurmdbd", "slurmrestd", "login"}));
  EXPECT_EQ(s.registry, "");
  EXPECT_FALSE(s.plain_http.has_value());
  EXPECT_EQ(s.package.name_prefix, "slurm-factory-");
  EXPECT_EQ(s.compression_level, 6);
}

TEST(OciSettings, RolesKeepTheirCanonicalOrder) {
  const auto s = sf::oci::parse_oci_settings({{"roles", {"login", "slurmctld"}}});
  EXPECT_EQ(s.roles, (std::vector<std::string>{"slurmctld", "login"}));
}

TEST(OciSettings, RefusalsNameTheKey) {
  EXPECT_THAT(refusal({{"roles", {"slurmx"}}}), HasSubstr("packagers.oci.roles"));
  EXPECT_THAT(refusal({{"roles", nlohmann::json::array()}}), HasSubstr("names no image"));
  EXPECT_THAT(refusal({{"registry", 5}}), HasSubstr("packagers.oci.registry"));
  EXPECT_THAT(refusal({{"plain_http", "yes"}}), HasSubstr("packagers.oci.plain_http"));
  EXPECT_THAT(refusal({{"compression_level", 12}}), HasSubstr("packagers.oci.compression_level"));
  EXPECT_THAT(refusal({{"compression", "zstd"}}), HasSubstr("packagers.oci.compression"));
  EXPECT_THAT(refusal({{"colour", "red"}}), HasSubstr("packagers.oci.colour"));
  EXPECT_THAT(refusal({{"install_root", "/opt/../etc"}}), HasSubstr("packagers.oci.install_root"));
  EXPECT_THAT(refusal("text"), HasSubstr("must be a mapping"));
}

TEST(OciSettings, TagNamesVersionToolchainGpuArchAndRevision) {
  EXPECT_EQ(sf::oci::image_tag("24.11.5", "trixie", {}, "amd64", "1"), "24.11.5-trixie-amd64");
  EXPECT_EQ(sf::oci::image_tag("24.11.5", "noble", {"cuda"}, "arm64", "2"),
            "24.11.5-noble-cuda-arm64-r2");
  // '+' and '~' are no tag characters.
  EXPECT_EQ(sf::oci::image_tag("24.11.5", "trixie", {}, "amd64", "2+site~1"),
            "24.11.5-trixie-amd64-r2_site_1");
}

}  // namespace
