// Finding published artifacts in a real local layer: provenance fields, SHA256SUMS shared by the
// CPU and GPU artifacts of one directory, order, and the warnings for what is incomplete.
#include "artifact/published_artifacts.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../support/cache_fixture.hpp"
#include "../support/temp_dir.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace sf {
namespace {

nlohmann::json provenance(const std::string& version, const std::string& toolchain,
                          std::vector<std::string> gpu, const std::string& file) {
  nlohmann::json features = nlohmann::json::array();
  for (const auto& g : gpu) features.push_back("gpu-" + g);
  return {{"artifact", file},
          {"slurm_version", version},
          {"created", "2026-11-29T09:51:45Z"},
          {"features", features},
          {"signing_key", "ABCD"},
          {"toolchain", {{"name", toolchain}, {"arch", "amd64"}, {"os_name", "Debian"}}}};
}

TEST(PublishedArtifacts, ReadsTheProvenanceFields) {
  auto a = published_artifact_from_provenance(
      provenance("24.11.5", "trixie", {"rocm", "cuda"},
                 "slurm-24.11.5-trixie-cuda-rocm-amd64-software.tar.zst"),
      "trixie/24.11.5/amd64/slurm-24.11.5-trixie-cuda-rocm-amd64-software.provenance.json");
  EXPECT_EQ(a.directory, "trixie/24.11.5/amd64");
  EXPECT_EQ(a.artifact_key,
            "trixie/24.11.5/amd64/slurm-24.11.5-trixie-cuda-rocm-amd64-software.tar.zst");
  EXPECT_EQ(a.slurm_version, "24.11.5");
  EXPECT_EQ(a.toolchain, "trixie");
  EXPECT_EQ(a.arch, "amd64");
  EXPECT_THAT(a.gpu, ElementsAre("cuda", "rocm"));
  EXPECT_EQ(a.created, "2026-11-29T09:51:45Z");
  EXPECT_EQ(a.signing_key, "ABCD");
}

TEST(PublishedArtifacts, FallsBackToThePlanRequest) {
  nlohmann::json p = {
      {"plan",
       {{"request", {{"slurm_version", "25.05.1"}, {"toolchain", "noble"}, {"gpu", {"cuda"}}}}}}};
  auto a = published_artifact_from_provenance(
      p, "noble/25.05.1/amd64/slurm-25.05.1-noble-cuda-amd64-software.provenance.json");
  EXPECT_EQ(a.slurm_version, "25.05.1");
  EXPECT_EQ(a.toolchain, "noble");
  EXPECT_THAT(a.gpu, ElementsAre("cuda"));
  EXPECT_EQ(a.file, "slurm-25.05.1-noble-cuda-amd64-software.tar.zst");
}

TEST(PublishedArtifacts, AProvenanceWithoutVersionNamesItsKey) {
  try {
    (void)published_artifact_from_provenance({{"toolchain", {{"name", "trixie"}}}},
                                             "x/y.provenance.json");
    FAIL() << "no error";
  } catch (const VerificationError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("slurm_version"));
    EXPECT_EQ(e.context_value("file"), "x/y.provenance.json");
  }
}

TEST(PublishedArtifacts, NewestVersionFirstNumerically) {
  std::vector<PublishedArtifact> v(4);
  v[0].slurm_version = "24.5.1";
  v[1].slurm_version = "24.11.5";
  v[2].slurm_version = "9.0";
  v[3].slurm_version = "24.11.5";
  v[1].toolchain = "trixie";
  v[3].toolchain = "bookworm";
  sort_published_artifacts(v);
  EXPECT_EQ(v[0].slurm_version + "/" + v[0].toolchain, "24.11.5/bookworm");
  EXPECT_EQ(v[1].slurm_version + "/" + v[1].toolchain, "24.11.5/trixie");
  EXPECT_EQ(v[2].slurm_version, "24.5.1");
  EXPECT_EQ(v[3].slurm_version, "9.0");
}

class PublishedArtifactsLayer : public ::testing::Test {
 protected:
  void SetUp() override {
    layer_ = test::make_layer("local", "local", "file://" + (dir_ / "layer").string());
  }
  void put(const std::string& key, const std::string& content) {
    const fs::path f = dir_ / "src" / key;
    test::write_file(f, content);
    ASSERT_TRUE(layer_->put(key, f));
  }
  void publish(const std::string& dir, const std::string& version, const std::string& toolchain,
               std::vector<std::string> gpu, const std::string& payload) {
    std::string stem = "slurm-" + version + "-" + toolchain;
    for (const auto& g : gpu) stem += "-" + g;
    stem += "-amd64-software";
    put(dir + "/" + stem + ".tar.zst", payload);
    put(dir + "/" + stem + ".provenance.json",
        provenance(version, toolchain, gpu, stem + ".tar.zst").dump());
  }
  test::TempDir dir_{"sf-published"};
  std::unique_ptr<CacheProvider> layer_;
};

TEST_F(PublishedArtifactsLayer, FindsEveryArtifactWithItsSumAndSignatures) {
  publish("trixie/24.11.5/amd64", "24.11.5", "trixie", {}, "cpu bytes");
  publish("trixie/24.11.5/amd64", "24.11.5", "trixie", {"cuda"}, "gpu bytes!");
  publish("bookworm/22.05.11/amd64", "22.05.11", "bookworm", {}, "old");
  put("trixie/24.11.5/amd64/slurm-24.11.5-trixie-amd64-software.tar.zst.asc", "sig");
  put("trixie/24.11.5/amd64/SHA256SUMS",
      std::string(64, 'a') + "  slurm-24.11.5-trixie-amd64-software.tar.zst\n" +
          std::string(64, 'b') + "  slurm-24.11.5-trixie-cuda-amd64-software.tar.zst\n");
  put("trixie/24.11.5/amd64/SHA256SUMS.asc", "sig");
  put("bookworm/22.05.11/amd64/SHA256SUMS", std::string(64, 'c') + "  other.tar.zst\n");
  // A cache entry beside them is not an artifact.
  put("debian-trixie/x86_64/slurm-24.11.5-0123456789ab.tar.zst", "entry");
  test::TempDir scratch("sf-published-scratch");
  auto scan = find_published_artifacts(*layer_, scratch.path());
  ASSERT_TRUE(scan) << scan.error().message;
  ASSERT_EQ(scan->artifacts.size(), 3U);
  const auto& cpu = scan->artifacts[0];
  const auto& gpu = scan->artifacts[1];
  const auto& old = scan->artifacts[2];
  EXPECT_TRUE(cpu.gpu.empty());
  EXPECT_EQ(cpu.size, 9U);
  EXPECT_EQ(cpu.sha256, std::string(64, 'a'));
  EXPECT_EQ(cpu.signature_key, cpu.artifact_key + ".asc");
  EXPECT_EQ(cpu.checksums_key, "trixie/24.11.5/amd64/SHA256SUMS");
  EXPECT_EQ(cpu.checksums_signature_key, "trixie/24.11.5/amd64/SHA256SUMS.asc");
  EXPECT_THAT(gpu.gpu, ElementsAre("cuda"));
  EXPECT_EQ(gpu.size, 10U);
  EXPECT_EQ(gpu.sha256, std::string(64, 'b'));
  EXPECT_EQ(gpu.signature_key, "");
  EXPECT_EQ(old.slurm_version, "22.05.11");
  EXPECT_EQ(old.sha256, "");
  EXPECT_EQ(old.checksums_signature_key, "");
  ASSERT_EQ(scan->warnings.size(), 1U);
  EXPECT_THAT(scan->warnings[0], HasSubstr("SHA256SUMS does not list it"));
}

TEST_F(PublishedArtifactsLayer, WarnsAboutAProvenanceWithoutItsArtifactOrNotJson) {
  put("trixie/24.11.5/amd64/slurm-24.11.5-trixie-amd64-software.provenance.json",
      provenance("24.11.5", "trixie", {}, "slurm-24.11.5-trixie-amd64-software.tar.zst").dump());
  put("trixie/25.05.1/amd64/slurm-25.05.1-trixie-amd64-software.provenance.json", "{not json");
  test::TempDir scratch("sf-published-scratch");
  auto scan = find_published_artifacts(*layer_, scratch.path());
  ASSERT_TRUE(scan);
  EXPECT_TRUE(scan->artifacts.empty());
  ASSERT_EQ(scan->warnings.size(), 2U);
  EXPECT_THAT(scan->warnings[0], HasSubstr("is not in the layer"));
  EXPECT_THAT(scan->warnings[1], HasSubstr("not JSON"));
}

}  // namespace
}  // namespace sf
