// `toolchain_families.<family>` settings reach the family's releases: the mirror replaces the
// mirror of the bootstrap recipe (the offline base image) of that family's releases only, and is
// part of the toolchain image definition (so of its hash). The real toolchain plugins of this tree.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "app/app.hpp"
#include "slurm_factory/errors.hpp"
#include "toolchains/toolchain_resolution.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

class ToolchainFamilySettings : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sf-family-settings-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    sources_.read_system_file = false;
    sources_.read_user_file = false;
    sources_.environment = {{"HOME", dir_.string()}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Resolves `toolchain` with the toolchain plugins loaded and `extra` appended to the config.
  ResolvedToolchain resolve(const std::string& toolchain, const std::string& extra) {
    std::ofstream(dir_ / "c.yaml") << "plugins:\n  search_paths: [" << SF_TEST_PLUGIN_DIR
                                   << "]\n  load: [toolchain-debian, toolchain-ubuntu]\n"
                                   << extra;
    sources_.files = {dir_ / "c.yaml"};
    App app({}, sources_);
    return resolve_toolchain(app, toolchain, {});
  }

  static std::string bootstrap_mirror(const ToolchainImageRequest& request) {
    const auto j = nlohmann::json::parse(toolchain_image_definition(request));
    return j.contains("bootstrap") ? j["bootstrap"]["mirror"].get<std::string>() : "";
  }

  fs::path dir_;
  ConfigSources sources_;
};

TEST_F(ToolchainFamilySettings, TheFamilyMirrorReachesTheBootstrapRecipeAndTheImageHash) {
  const auto by_default = resolve("bookworm", "");
  EXPECT_EQ(by_default.image.mirror, "http://deb.debian.org/debian");
  EXPECT_EQ(bootstrap_mirror(by_default.image), "http://deb.debian.org/debian");

  const auto site =
      resolve("bookworm", "toolchain_families: {debian: {mirror: http://m.site.example/debian}}\n");
  EXPECT_EQ(site.image.mirror, "http://m.site.example/debian");
  EXPECT_EQ(bootstrap_mirror(site.image), "http://m.site.example/debian");
  EXPECT_NE(site.image_hash, by_default.image_hash);
}

TEST_F(ToolchainFamilySettings, TheOldKeyStillReachesTheBootstrapRecipe) {
  const auto old = resolve("trixie", "debian_mirror: http://old.site.example/debian\n");
  EXPECT_EQ(bootstrap_mirror(old.image), "http://old.site.example/debian");
  const auto now =
      resolve("trixie", "toolchain_families: {debian: {mirror: http://old.site.example/debian}}\n");
  EXPECT_EQ(old.image_hash, now.image_hash);  // the same image, whichever key wrote it
}

// Debian's mirror is no other family's: an ubuntu release takes its own family's entry only.
TEST_F(ToolchainFamilySettings, AFamilyMirrorIsOnlyForThatFamily) {
  const auto noble =
      resolve("noble", "toolchain_families: {debian: {mirror: http://m.site.example/debian}}\n");
  EXPECT_EQ(noble.image.mirror, "");
  const auto ubuntu =
      resolve("noble", "toolchain_families: {ubuntu: {mirror: http://u.site.example/ubuntu}}\n");
  EXPECT_EQ(ubuntu.image.mirror, "http://u.site.example/ubuntu");
}

// A family nothing loaded provides (a typo, a plugin left out of plugins.load) is refused at the
// key's file:line with the loaded families and a did-you-mean, never silently ignored; the embedded
// default's entry (debian) is not, even where the debian plugin is not loaded.
TEST_F(ToolchainFamilySettings, AFamilyNoPluginProvidesIsRefusedWhereItIsWritten) {
  try {
    resolve("bookworm", "toolchain_families: {debain: {mirror: http://m.site.example/debian}}\n");
    FAIL() << "a typo family was accepted";
  } catch (const ConfigurationError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find((dir_ / "c.yaml").string() + ":4:"), std::string::npos) << what;
    EXPECT_NE(what.find("toolchain_families.debain"), std::string::npos) << what;
    EXPECT_NE(what.find("did you mean 'debian'?"), std::string::npos) << what;
    EXPECT_EQ(e.context_value("loaded families"), "debian, ubuntu");
  }
  std::ofstream(dir_ / "c.yaml") << "plugins:\n  search_paths: [" << SF_TEST_PLUGIN_DIR
                                 << "]\n  load: [toolchain-ubuntu]\n";
  sources_.files = {dir_ / "c.yaml"};
  App app({}, sources_);
  EXPECT_EQ(resolve_toolchain(app, "noble", {}).image.mirror, "");
}

}  // namespace
}  // namespace sf
