// `slurm-factory plugins list` end to end through the CLI: a config naming the test plugins built
// in tests/plugins/, the real plugin host, text and JSON output, and a refusal's exit code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli/cli.hpp"
#include "slurm_factory/abi.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

const fs::path kTestPlugins = fs::path(SF_TEST_BINARY_DIR) / "tests" / "plugins";

class PluginsList : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sf-plugins-list-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    unsetenv("SLURM_FACTORY_PLUGIN_PATH");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path config_loading(const std::string& plugins) {
    const fs::path file = dir_ / "config.yaml";
    std::ofstream(file) << "plugins:\n  search_paths: [" << kTestPlugins.string() << "]\n  load: ["
                        << plugins << "]\n";
    return file;
  }

  int run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return sf::cli::run(args, out_, err_);
  }

  fs::path dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(PluginsList, PrintsATableOfTheLoadedPlugins) {
  const auto config = config_loading("test-good, test-dup-a");
  ASSERT_EQ(run({"--config", config.string(), "plugins", "list"}), 0) << err_.str();
  const std::string text = out_.str();
  EXPECT_THAT(text, HasSubstr("NAME"));
  EXPECT_THAT(text, HasSubstr("PROVIDES"));
  EXPECT_THAT(text, HasSubstr("test-good   1.2.3    " + sf::kAbiVersion.str() +
                              "  toolchain test-family, feature test-feature"));
  EXPECT_THAT(text, HasSubstr(fs::canonical(kTestPlugins / "libsf-test-dup-a.so").string()));
  // -v adds the description.
  ASSERT_EQ(run({"-v", "--config", config.string(), "plugins", "list"}), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("  A correct plugin used by the plugin host tests\n"));
  EXPECT_THAT(out_.str(),
              HasSubstr("  toolchain: " + std::string(sf::toolchain_fingerprint()) + "\n"));
}

TEST_F(PluginsList, JsonHasNameKindsVersionAbiAndFile) {
  const auto config = config_loading("test-good");
  ASSERT_EQ(run({"--config", config.string(), "plugins", "list", "--json"}), 0) << err_.str();
  const auto json = nlohmann::json::parse(out_.str());
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 1U);
  const auto& p = json[0];
  EXPECT_EQ(p["name"], "test-good");
  EXPECT_EQ(p["version"], "1.2.3");
  EXPECT_EQ(p["abi"], sf::kAbiVersion.str());
  EXPECT_EQ(p["toolchain"], sf::toolchain_fingerprint());
  EXPECT_EQ(p["file"], fs::canonical(kTestPlugins / "libsf-test-good.so").string());
  EXPECT_EQ(p["kinds"], (nlohmann::json{"toolchain", "feature"}));
  EXPECT_EQ(p["provides"][0], (nlohmann::json{{"kind", "toolchain"}, {"name", "test-family"}}));
  EXPECT_EQ(p["provides"].size(), 4U);
}

TEST_F(PluginsList, ARefusedPluginIsAPluginErrorNamingTheFile) {
  const auto config = config_loading("test-good, test-abi-major");
  EXPECT_EQ(run({"--config", config.string(), "plugins", "list"}),
            static_cast<int>(sf::ExitCode::kPlugin));
  EXPECT_EQ(out_.str(), "");
  EXPECT_THAT(err_.str(),
              HasSubstr("plugin error: plugin file " +
                        fs::canonical(kTestPlugins / "libsf-test-abi-major.so").string() +
                        " was built for plugin ABI 1.2"));
  EXPECT_THAT(err_.str(), HasSubstr("what to do: rebuild the plugin"));
}

TEST_F(PluginsList, AnUnknownPluginNameListsThePathsSearched) {
  const auto config = config_loading("test-nonexistent");
  EXPECT_EQ(run({"--config", config.string(), "plugins", "list"}),
            static_cast<int>(sf::ExitCode::kPlugin));
  EXPECT_THAT(err_.str(), HasSubstr("plugin 'test-nonexistent' not found: expected "
                                    "libsf-test-nonexistent.so"));
  EXPECT_THAT(err_.str(), HasSubstr(kTestPlugins.string()));
}

TEST_F(PluginsList, HelpHasExamples) {
  ASSERT_EQ(run({"plugins", "list", "--help"}), 0);
  EXPECT_THAT(out_.str(), HasSubstr("slurm-factory plugins list --json"));
}

}  // namespace
