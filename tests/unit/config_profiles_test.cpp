#include "config/config_profiles.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "config/config_loader.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

class ConfigProfiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("sf-config-profiles-" + std::to_string(rd()));
    fs::create_directories(dir_);
    sources_.read_system_file = false;
    sources_.read_user_file = false;
    sources_.environment = {{"HOME", dir_.string()}};
    site_ = write("site.yaml",
                  "backend: docker\n"
                  "profiles:\n"
                  "  laptop:\n"
                  "    build: {cpus: 2, memory: 4g}\n"
                  "  ci:\n"
                  "    backend: podman\n"
                  "    cache:\n"
                  "      layers:\n"
                  "        - {name: ci, type: local, url: 'file:///ci/cache'}\n"
                  "  site:\n"
                  "    cache_dir: /srv/sf\n");
    sources_.files = {site_};
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }

  fs::path dir_;
  fs::path site_;
  ConfigSources sources_;
};

TEST_F(ConfigProfiles, NoProfileLeavesFilesAloneAndListsTheDefinedOnes) {
  const Config c = load_config(sources_);
  EXPECT_EQ(c.profile, "");
  EXPECT_EQ(c.default_backend, "docker");
  EXPECT_EQ(c.available_profiles, (std::vector<std::string>{"ci", "laptop", "site"}));
}

TEST_F(ConfigProfiles, SelectedProfileOverridesTheFilesWithItsOrigin) {
  sources_.profile = "ci";
  sources_.profile_origin = "env SLURM_FACTORY_PROFILE";
  const Config c = load_config(sources_);
  EXPECT_EQ(c.profile, "ci");
  EXPECT_EQ(c.default_backend, "podman");
  ASSERT_EQ(c.cache_layers.size(), 1U);
  EXPECT_EQ(c.cache_layers[0].name, "ci");
  EXPECT_EQ(c.origin_of("backend"), site_.string() + ":6:14 (profile ci)");
  EXPECT_EQ(c.origin_of("profile"), "env SLURM_FACTORY_PROFILE");
  EXPECT_EQ(c.build.memory, "8g");
}

TEST_F(ConfigProfiles, ProfileMergesKeyByKey) {
  sources_.files.push_back(write("more.yaml", "build: {shm: 2g, memory: 32g}\n"));
  sources_.profile = "laptop";
  const Config c = load_config(sources_);
  EXPECT_DOUBLE_EQ(c.build.cpus, 2);
  EXPECT_EQ(c.build.memory, "4g");  // the profile beats a later file
  EXPECT_EQ(c.build.shm, "2g");     // keys the profile does not name stay
}

TEST_F(ConfigProfiles, EnvironmentBeatsTheProfile) {
  sources_.profile = "site";
  EXPECT_EQ(load_config(sources_).cache_dir, "/srv/sf");
  sources_.environment["SLURM_FACTORY_CACHE_DIR"] = "/env/sf";
  const Config c = load_config(sources_);
  EXPECT_EQ(c.cache_dir, "/env/sf");
  EXPECT_EQ(c.origin_of("cache_dir"), "env SLURM_FACTORY_CACHE_DIR");
}

TEST_F(ConfigProfiles, AProfileDefinedInTwoFilesIsMergedInFileOrder) {
  sources_.files.push_back(
      write("user.yaml", "profiles:\n  laptop:\n    build: {memory: 6g, jobs: 3}\n"));
  sources_.profile = "laptop";
  const Config c = load_config(sources_);
  EXPECT_DOUBLE_EQ(c.build.cpus, 2);
  EXPECT_EQ(c.build.memory, "6g");
  EXPECT_EQ(c.build.jobs, 3);
}

TEST_F(ConfigProfiles, UnknownProfileListsTheDefinedOnes) {
  sources_.profile = "cl";
  try {
    load_config(sources_);
    FAIL() << "no error";
  } catch (const ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown profile 'cl'"), std::string::npos);
    EXPECT_EQ(e.context_value("defined profiles"), "ci, laptop, site");
    EXPECT_EQ(e.context_value("selected by"), "--profile");
    EXPECT_NE(e.remediation().find("did you mean 'ci'?"), std::string::npos) << e.remediation();
  }
}

TEST_F(ConfigProfiles, UnknownProfileWithNoneDefined) {
  sources_.files.clear();
  sources_.profile = "ci";
  try {
    load_config(sources_);
    FAIL() << "no error";
  } catch (const ConfigurationError& e) {
    EXPECT_EQ(e.context_value("defined profiles"), "(none)");
    EXPECT_NE(e.remediation().find("no profiles are defined"), std::string::npos);
  }
}

TEST(ProfileSet, NamesAreSortedAndUnique) {
  config::ProfileSet set;
  set.add(YAML::Load("{b: {}, a: {}}"), config::LayerSource::from_file("1.yaml"));
  set.add(YAML::Load("{b: {build: {jobs: 1}}}"), config::LayerSource::from_file("2.yaml"));
  EXPECT_EQ(set.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(set.has("a"));
  EXPECT_FALSE(set.has("c"));
  YAML::Node tree(YAML::NodeType::Map);
  config::Origins origins;
  std::vector<std::string> warnings;
  set.apply("b", "--profile", tree, origins, warnings);
  EXPECT_EQ(tree["build"]["jobs"].as<int>(), 1);
  EXPECT_EQ(origins["build.jobs"], "2.yaml:1:20 (profile b)");
}

}  // namespace
}  // namespace sf
