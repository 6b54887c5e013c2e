// Renders every artifact template for two toolchains and a GPU build and compares the result with
// the golden files in tests/unit/golden/templates/<case>/ (SF_UPDATE_GOLDEN=1 rewrites them).
#include "slurm_factory/core/template_renderer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "../support/golden.hpp"
#include "slurm_factory/core/artifact_assets.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kTemplates = fs::path(SF_TEST_SOURCE_DIR) / "templates";
const fs::path kGolden = fs::path(SF_TEST_SOURCE_DIR) / "tests/unit/golden/templates";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Case {
  std::string name;
  sf::ArtifactInfo info;
};

std::vector<Case> cases() {
  sf::ArtifactInfo bookworm{"24.11.5", "bookworm", "debian",     "Debian GNU/Linux 12 (bookworm)",
                            "amd64",   {},         "/opt/slurm", "0.1.0"};
  sf::ArtifactInfo rocky{"23.02.7", "rockylinux9", "rocky", "Rocky Linux 9", "amd64",
                         {},        "/opt/slurm",  "0.1.0"};
  sf::ArtifactInfo gpu{"24.11.5", "trixie",         "debian",     "Debian GNU/Linux 13 (trixie)",
                       "amd64",   {"rocm", "cuda"}, "/opt/slurm", "0.1.0"};
  return {{"bookworm", bookworm}, {"rockylinux9", rocky}, {"trixie-gpu", gpu}};
}

}  // namespace

TEST(TemplateRendererTest, EveryTemplateMatchesItsGoldenFile) {
  const bool update = sf::test::update_golden_files();
  sf::TemplateRenderer renderer(kTemplates);
  for (const auto& c : cases()) {
    const auto data = sf::artifact_template_data(c.info);
    for (const auto& asset : sf::artifact_assets(c.info)) {
      const std::string got = renderer.render(asset.template_name, data);
      const fs::path golden = kGolden / c.name / asset.template_name;
      if (update) {
        fs::create_directories(golden.parent_path());
        std::ofstream(golden, std::ios::binary) << got;
        continue;
      }
      ASSERT_TRUE(fs::exists(golden)) << golden << " missing; run with SF_UPDATE_GOLDEN=1";
      EXPECT_EQ(got, read(golden)) << c.name << ": " << asset.template_name << " differs from "
                                   << golden << " (SF_UPDATE_GOLDEN=1 regenerates after review)";
      EXPECT_EQ(got.find("{{"), std::string::npos) << asset.template_name;
    }
  }
}

TEST(TemplateRendererTest, EveryTemplateFileIsPartOfTheArtifact) {
  // A template nobody renders is dead weight or a forgotten asset.
  sf::TemplateRenderer renderer(kTemplates);
  sf::ArtifactInfo gpu{"24.11.5", "trixie", "debian",     "Debian 13",
                       "amd64",   {"cuda"}, "/opt/slurm", "0.1.0"};
  std::set<std::string> rendered;
  for (const auto& a : sf::artifact_assets(gpu)) rendered.insert(a.template_name);
  for (const auto& t : renderer.list()) {
    // templates/build/ holds the recipe engine's build scripts and templates/index/ the published
    // artifacts' web page (artifact_index_html_test), not artifact assets.
    if (t.rfind("build/", 0) == 0 || t.rfind("index/", 0) == 0) continue;
    EXPECT_TRUE(rendered.count(t) == 1) << t << " is in templates/ but no artifact asset uses it";
  }
}

TEST(TemplateRendererTest, GpuBuildsGetGresConfAndCpuBuildsDoNot) {
  sf::ArtifactInfo cpu{"24.11.5", "bookworm", "debian", "Debian 12", "amd64", {}, "/opt/slurm", ""};
  sf::ArtifactInfo gpu = cpu;
  gpu.gpu = {"cuda"};
  auto has_gres = [](const sf::ArtifactInfo& i) {
    for (const auto& a : sf::artifact_assets(i))
      if (a.template_name == "slurm/gres.conf.template") return true;
    return false;
  };
  EXPECT_FALSE(has_gres(cpu));
  EXPECT_TRUE(has_gres(gpu));
  EXPECT_EQ(sf::artifact_basename(cpu), "slurm-24.11.5-bookworm-amd64-software");
  EXPECT_EQ(sf::artifact_basename(gpu), "slurm-24.11.5-bookworm-cuda-amd64-software");
}

TEST(TemplateRendererTest, MissingKeyIsAnErrorNamingTemplateAndKey) {
  try {
    sf::TemplateRenderer::render_text("a {{present}} {{absent}} {{#nosection}}x{{/nosection}}",
                                      {{"present", "1"}}, "inline.tmpl");
    FAIL() << "expected PackagingError";
  } catch (const sf::PackagingError& e) {
    EXPECT_NE(std::string(e.what()).find("absent"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nosection"), std::string::npos) << e.what();
    EXPECT_EQ(e.context_value("template"), "inline.tmpl");
    EXPECT_FALSE(e.remediation().empty());
  }
}

TEST(TemplateRendererTest, SyntaxErrorIsReported) {
  EXPECT_THROW(sf::TemplateRenderer::render_text("{{#open}} never closed", {{"open", true}}, "x"),
               sf::PackagingError);
}

TEST(TemplateRendererTest, ValuesAreInsertedVerbatimNotHtmlEscaped) {
  EXPECT_EQ(sf::TemplateRenderer::render_text("{{v}}", {{"v", "a<b>&\"c\""}}, "x"), "a<b>&\"c\"");
}

TEST(TemplateRendererTest, MissingTemplateFileNamesThePath) {
  sf::TemplateRenderer renderer(kTemplates);
  try {
    (void)renderer.render("no/such.tmpl", nlohmann::json::object());
    FAIL();
  } catch (const sf::PackagingError& e) {
    EXPECT_NE(e.context_value("template").find("no/such.tmpl"), std::string::npos);
  }
}

TEST(TemplateRendererTest, ModulefileNeedsNoLibraryPath) {
  sf::TemplateRenderer renderer(kTemplates);
  const auto data = sf::artifact_template_data(cases()[0].info);
  const std::string lua = renderer.render("modules/modulefile.lua", data);
  EXPECT_EQ(lua.find("LD_LIBRARY_PATH\""), std::string::npos);
  EXPECT_NE(lua.find("family(\"workloadmanager\")"), std::string::npos);
  EXPECT_NE(lua.find("SLURM_INSTALL_PREFIX"), std::string::npos);
  EXPECT_NE(lua.find("/etc/slurm/slurm.conf"), std::string::npos);
}
