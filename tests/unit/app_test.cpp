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

// The one way to get a packager: its plugin (packager-<name>) is loaded from the search paths on
// first use when the config does not load it, and only once.
TEST_F(AppTest, PackagerLoadsItsPluginOnFirstUseOnce) {
  sources_.files = {write("k.yaml", std::string("plugins:\n  search_paths: [") +
                                        SF_TEST_PLUGIN_DIR + "]\n  load: [toolchain-debian]\n")};
  App app({}, sources_);
  ASSERT_EQ(app.plugins().plugins().size(), 1U);
  auto first = app.packager("tarball");
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(app.plugins().plugins().size(), 2U);
  EXPECT_EQ(app.plugins().plugins()[1].name, "packager-tarball");
  auto second = app.packager("tarball", {{"compression", "gzip"}});
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(app.plugins().plugins().size(), 2U);
}

// A packager's settings come from the config's packagers.<name>; a refused one is named with the
// file and line it was written at.
TEST_F(AppTest, ARefusedPackagerSettingNamesItsFileAndLine) {
  const auto file =
      write("p.yaml", std::string("plugins:\n  search_paths: [") + SF_TEST_PLUGIN_DIR +
                          "]\n  load: []\npackagers:\n  deb:\n    name_prefix: Bad_\n");
  sources_.files = {file};
  App app({}, sources_);
  try {
    app.packager("deb");
    FAIL() << "accepted name_prefix: Bad_";
  } catch (const ConfigurationError& e) {
    EXPECT_EQ(e.context_value("setting"), "packagers.deb.name_prefix");
    EXPECT_NE(e.context_value("file").find(file.string() + ":6:"), std::string::npos)
        << e.context_value("file");
  }
}

TEST_F(AppTest, PackagerNamesAMissingPlugin) {
  sources_.files = {
      write("n.yaml", "plugins:\n  search_paths: [" + dir_.string() + "]\n  load: []\n")};
  App app({}, sources_);
  try {
    app.packager("nonexistent");
    FAIL() << "no error";
  } catch (const PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("packager-nonexistent"), std::string::npos) << e.what();
  }
}

// A layer type or packager name is a plugin name, never a path to a file to open.
TEST_F(AppTest, APluginNameThatIsAPathIsRefused) {
  sources_.files = {write("q.yaml", "plugins:\n  load: []\n")};
  App app({}, sources_);
  CacheLayerSpec layer;
  layer.name = "evil";
  layer.type = "../../tmp/x.so";
  EXPECT_THROW(app.cache_provider(layer), ConfigurationError);
  layer.type = "x.so";
  EXPECT_THROW(app.cache_provider(layer), ConfigurationError);
  EXPECT_THROW(app.packager("../x"), UsageError);
  EXPECT_TRUE(app.plugins().plugins().empty());
}

// A container backend comes only from the plugins the config loads: an unknown name is refused
// with the names that are known, and "" means the config's backend.
TEST_F(AppTest, ContainerBackendRefusesAnUnknownNameAndDefaultsToTheConfigs) {
  sources_.files = {write("b.yaml", std::string("backend: podman\nplugins:\n  search_paths: [") +
                                        SF_TEST_PLUGIN_DIR + "]\n  load: [backend-docker]\n")};
  App app({}, sources_);
  EXPECT_NE(app.container_backend("docker"), nullptr);
  for (const std::string name : {"", "nope"}) {
    try {
      app.container_backend(name);
      FAIL() << "no error for '" << name << "'";
    } catch (const SlurmFactoryError& e) {
      const std::string expected = name.empty() ? "podman" : name;
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
      EXPECT_NE(e.render().find("docker"), std::string::npos) << e.render();
    }
  }
}

}  // namespace
}  // namespace sf
