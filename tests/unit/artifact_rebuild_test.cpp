#include "pipeline/artifact_rebuild.hpp"

#include <gtest/gtest.h>

#include "recipes/package_hash.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

PackageSpec pkg(const std::string& name, const std::vector<std::string>& configure) {
  PackageSpec s;
  s.name = name;
  s.version = "1.0";
  s.source.sha256 = std::string(64, 'a');
  s.prefix = "/opt/slurm/view";
  s.toolchain = {"debian", "trixie", "amd64", "img"};
  s.configure_args = configure;
  return s;
}

nlohmann::json recorded(const Plan& plan) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : plan.packages) {
    out.push_back({{"name", p.name}, {"inputs", canonical_description(p)}});
  }
  return out;
}

TEST(ArtifactRebuild, RequestComesFromTheProvenance) {
  const nlohmann::json prov{
      {"slurm_version", "24.11.5"},
      {"toolchain", {{"name", "trixie"}, {"arch", "amd64"}}},
      {"plan", {{"request", {{"slurm_version", "24.11"}, {"gpu", {"cuda"}}}}}}};
  const BuildRequest r = rebuild_request_from_provenance(prov);
  EXPECT_EQ(r.slurm_version, "24.11.5");  // the resolved version, not the series
  EXPECT_EQ(r.toolchain, "trixie");
  EXPECT_EQ(r.arch, "amd64");
  EXPECT_EQ(r.gpu, std::vector<std::string>{"cuda"});
}

TEST(ArtifactRebuild, ProvenanceWithoutTheToolchainIsAUsageErrorNamingTheField) {
  try {
    (void)rebuild_request_from_provenance({{"slurm_version", "24.11.5"}});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context_value("field"), "toolchain.name");
  }
}

TEST(ArtifactRebuild, InputChangesNameThePackageAndTheKeys) {
  Plan then;
  then.packages = {pkg("libyaml", {"--disable-static"}), pkg("slurm", {"--with-x"})};
  Plan now;
  now.packages = {pkg("libyaml", {"--enable-static"}), pkg("slurm", {"--with-x"})};
  EXPECT_TRUE(plan_input_changes(recorded(then), then).empty());
  const auto changes = plan_input_changes(recorded(then), now);
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes.at("libyaml"), std::vector<std::string>{"configure"});

  Plan more = then;
  more.packages.push_back(pkg("lz4", {}));
  const auto added = plan_input_changes(recorded(then), more);
  EXPECT_EQ(added.at("lz4"), std::vector<std::string>{"(not in the provenance)"});
  const auto gone = plan_input_changes(recorded(more), then);
  EXPECT_EQ(gone.at("lz4"), std::vector<std::string>{"(not in the plan)"});
}

TEST(ArtifactRebuild, ExitCodesAndReport) {
  RebuildReport r;
  r.refused = true;
  r.image_list_recorded = true;
  r.image_changes = {{"gcc-14:amd64", "14.2.0-19 -> 14.2.0-20"}};
  EXPECT_EQ(r.exit_code(), kRebuildRefused);
  const std::string text = format_rebuild_report(r);
  EXPECT_NE(text.find("gcc-14:amd64  14.2.0-19 -> 14.2.0-20"), std::string::npos) << text;
  EXPECT_NE(text.find("refused"), std::string::npos);

  RebuildReport same;
  same.comparison = ArchiveComparison{"abc", "abc", 3, {}};
  EXPECT_EQ(same.exit_code(), 0);
  EXPECT_NE(format_rebuild_report(same).find("identical"), std::string::npos);

  RebuildReport diff;
  diff.comparison = ArchiveComparison{
      "abc", "def", 902, {{"view/lib/libcrypto.so.3", "content", 5963352, 5963352, {".rodata"}}}};
  EXPECT_EQ(diff.exit_code(), kRebuildDiffers);
  EXPECT_NE(format_rebuild_report(diff).find(
                "  view/lib/libcrypto.so.3  content  5963352 -> 5963352 bytes  sections: .rodata"),
            std::string::npos)
      << format_rebuild_report(diff);
}

}  // namespace
}  // namespace sf
