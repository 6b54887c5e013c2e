// App: the config is loaded once from the given sources; plugins() loads the config's plugins from
// the configured search paths (the real toolchain plugin built in this tree).
#include "app/app.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sf-app-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    sources_.read_system_file = false;
    sources_.read_user_file = false;
    sources_.environment = {{"HOME", dir_.string()}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }

  fs::path dir_;
  ConfigSources sources_;
};

TEST_F(AppTest, ConfigIsLoadedOnceAndKept) {
  sources_.files = {write("a.yaml", "build: {jobs: 5}\n")};
  App app({}, sources_);
  Config& first = app.config();
  EXPECT_EQ(first.build.jobs, 5);
  apply_override(first, "build.jobs", "9", "--jobs");
  EXPECT_EQ(&app.config(), &first);
  EXPECT_EQ(app.config().build.jobs, 9);
}

TEST_F(AppTest, ConfigErrorsSurfaceFromConfig) {
  sources_.files = {write("bad.yaml", "biuld: {}\n")};
  App app({}, sources_);
  EXPECT_THROW(app.config(), ConfigurationError);
}

TEST_F(AppTest, FromGlobalOptionsUsesTheirFilesAndProfile) {
  GlobalOptions g;
  g.config_files = {write("g.yaml", "profiles: {ci: {backend: podman}}\n").string()};
  g.profile = "ci";
  App app(g);
  EXPECT_EQ(app.global().profile, "ci");
  EXPECT_EQ(app.config().default_backend, "podman");
  EXPECT_EQ(app.config().profile, "ci");
}

TEST_F(AppTest, PluginsLoadsTheConfiguredPluginsFromTheSearchPaths) {
  sources_.files = {write("p.yaml", std::string("plugins:\n  search_paths: [") +
                                        SF_TEST_PLUGIN_DIR + "]\n  load: [toolchain-debian]\n")};
  App app({}, sources_);
  PluginHost& host = app.plugins();
  ASSERT_EQ(host.plugins().size(), 1U);
  EXPECT_EQ(host.plugins()[0].name, "toolchain-debian");
  EXPECT_EQ(host.plugins()[0].file.parent_path(), fs::path(SF_TEST_PLUGIN_DIR));
  const auto families = host.toolchain_family_names();
  EXPECT_NE(std::find(families.begin(), families.end(), "debian"), families.end());
  EXPECT_EQ(&app.plugins(), &host);
}

TEST_F(AppTest, PluginsNamesAMissingPlugin) {
  sources_.files = {write("m.yaml", "plugins:\n  search_paths: [" + dir_.string() +
                                        "]\n  load: [toolchain-nonexistent]\n")};
  App app({}, sources_);
  try {
    app.plugins();
    FAIL() << "no error";
  } catch (const PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("toolchain-nonexistent"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sf
