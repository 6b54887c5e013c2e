// The oci packager's image documents: what the config, manifest and index hold, that they are the
// same bytes for the same inputs, and the names OCI gives architectures and times.
#include "oci_image.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "slurm_factory/digest.hpp"

namespace {

sf::oci::ImageSpec image() {
  sf::oci::ImageSpec i;
  i.role = "slurmd";
  i.arch = "amd64";
  i.created = "2026-12-06T00:00:00Z";
  i.env = {"PATH=/opt/slurm/view/sbin:/usr/bin"};
  i.entrypoint = {"/usr/local/sbin/slurm-factory-entrypoint"};
  i.cmd = {"slurmd"};
  i.ports = {"6818/tcp"};
  i.labels = {{"org.slurm-factory.role", "slurmd"}, {"org.slurm-factory.slurm-version", "24.11.5"}};
  i.layers = {{{sf::oci::kLayerGzipType, "sha256:" + std::string(64, 'a'), 10, {}},
               "sha256:" + std::string(64, 'b'),
               "base"},
              {{sf::oci::kLayerGzipType, "sha256:" + std::string(64, 'c'), 20, {}},
               "sha256:" + std::string(64, 'd'),
               "common"}};
  return i;
}

TEST(OciImage, ConfigHoldsTheRuntimeAndTheLayersDiffIds) {
  const auto j = nlohmann::json::parse(sf::oci::config_json(image()));
  EXPECT_EQ(j["architecture"], "amd64");
  EXPECT_EQ(j["os"], "linux");
  EXPECT_EQ(j["config"]["Cmd"], nlohmann::json::array({"slurmd"}));
  EXPECT_EQ(j["config"]["Entrypoint"][0], "/usr/local/sbin/slurm-factory-entrypoint");
  EXPECT_TRUE(j["config"]["ExposedPorts"].contains("6818/tcp"));
  EXPECT_EQ(j["config"]["Labels"]["org.slurm-factory.slurm-version"], "24.11.5");
  ASSERT_EQ(j["rootfs"]["diff_ids"].size(), 2U);
  EXPECT_EQ(j["rootfs"]["diff_ids"][1], "sha256:" + std::string(64, 'd'));
  EXPECT_EQ(j["history"][0]["created_by"], "base");
}

TEST(OciImage, ManifestNamesConfigAndCompressedLayersInOrder) {
  const std::string config = sf::oci::config_json(image());
  const auto c = sf::oci::describe_json(sf::oci::kConfigType, config);
  EXPECT_EQ(c.digest, "sha256:" + sf::sha256_hex(config));
  EXPECT_EQ(c.size, config.size());
  const auto m = nlohmann::json::parse(sf::oci::manifest_json(c, image()));
  EXPECT_EQ(m["schemaVersion"], 2);
  EXPECT_EQ(m["mediaType"], sf::oci::kManifestType);
  EXPECT_EQ(m["config"]["digest"], c.digest);
  ASSERT_EQ(m["layers"].size(), 2U);
  EXPECT_EQ(m["layers"][0]["digest"], "sha256:" + std::string(64, 'a'));
  EXPECT_EQ(m["layers"][1]["size"], 20);
  EXPECT_EQ(m["layers"][1]["mediaType"], sf::oci::kLayerGzipType);
}

TEST(OciImage, SameInputsGiveTheSameBytes) {
  EXPECT_EQ(sf::oci::config_json(image()), sf::oci::config_json(image()));
  auto other = image();
  other.cmd = {"slurmctld"};
  EXPECT_NE(sf::oci::config_json(image()), sf::oci::config_json(other));
}

TEST(OciImage, IndexListsManifestsWithTheirNames) {
  sf::oci::Descriptor d{sf::oci::kManifestType,
                        "sha256:" + std::string(64, 'e'),
                        5,
                        {{"org.opencontainers.image.ref.name", "slurm-factory-slurmd:1-x-amd64"}}};
  const auto j = nlohmann::json::parse(sf::oci::index_json({d}));
  EXPECT_EQ(j["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
            "slurm-factory-slurmd:1-x-amd64");
  EXPECT_EQ(nlohmann::json::parse(sf::oci::layout_json())["imageLayoutVersion"], "1.0.0");
}

TEST(OciImage, ArchitectureAndTimeNames) {
  EXPECT_EQ(sf::oci::oci_arch("amd64"), "amd64");
  EXPECT_EQ(sf::oci::oci_arch("arm64"), "arm64");
  EXPECT_EQ(sf::oci::oci_arch("ppc64el"), "ppc64le");
  EXPECT_EQ(sf::oci::rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(sf::oci::rfc3339(1765000000), "2025-12-06T05:46:40Z");
}

}  // namespace
