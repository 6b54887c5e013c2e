// resolve_toolchain and the target architecture (issue 17), with the real toolchain plugins of this
// tree: the host's by default, another one a cross build the release must list (Debian), its own
// image (hash, setup script), the target's loader on the system-library list, and clear refusals.
#include "toolchains/toolchain_resolution.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "app/app.hpp"
#include "slurm_factory/errors.hpp"
#include "support/host_arch.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ToolchainResolution : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sf-toolchain-resolution-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "c.yaml") << "plugins:\n  search_paths: [" << SF_TEST_PLUGIN_DIR
                                   << "]\n  load: [toolchain-debian, toolchain-ubuntu, "
                                      "toolchain-rocky]\n";
    sources_.read_system_file = false;
    sources_.read_user_file = false;
    sources_.environment = {{"HOME", dir_.string()}};
    sources_.files = {dir_ / "c.yaml"};
    app_ = std::make_unique<App>(GlobalOptions{}, sources_);
  }
  void TearDown() override {
    app_.reset();
    fs::remove_all(dir_);
  }

  ResolvedToolchain resolve(const std::string& toolchain, const std::string& arch) {
    return resolve_toolchain(*app_, toolchain, {}, arch);
  }

  fs::path dir_;
  ConfigSources sources_;
  std::unique_ptr<App> app_;
  const std::string host_ = host_arch();
  const std::string foreign_ = host_arch() == "amd64" ? "arm64" : "amd64";
};

TEST_F(ToolchainResolution, TheDefaultIsANativeBuildForTheHost) {
  const auto r = resolve("trixie", "");
  EXPECT_EQ(r.image.release.arch, host_);
  EXPECT_TRUE(r.image.release.build_arch.empty());
  EXPECT_FALSE(is_cross_build(r.image.release));
  EXPECT_EQ(resolve("trixie", host_).image_hash, r.image_hash) << "--arch <host> is the default";
  EXPECT_THAT(r.image.setup_script, Not(HasSubstr("dpkg --add-architecture")));
}

TEST_F(ToolchainResolution, AnotherArchitectureIsACrossBuildWithItsOwnImage) {
  const auto native = resolve("trixie", "");
  const auto cross = resolve("trixie", foreign_);
  EXPECT_EQ(cross.image.release.arch, foreign_);
  EXPECT_EQ(cross.image.release.build_arch, host_);
  EXPECT_TRUE(is_cross_build(cross.image.release));
  EXPECT_NE(cross.image_hash, native.image_hash);
  EXPECT_THAT(cross.image.setup_script, HasSubstr("dpkg --add-architecture " + foreign_));
  EXPECT_THAT(cross.image.setup_script, HasSubstr("crossbuild-essential-" + foreign_));
  const auto def = nlohmann::json::parse(toolchain_image_definition(cross.image));
  EXPECT_EQ(def["arch"], foreign_);
  EXPECT_EQ(def["build_arch"], host_) << "the image runs on the host";
  // The target's dynamic loader is a system library of every host of it.
  const auto& libs = cross.image.release.system_libraries;
  EXPECT_NE(std::find(libs.begin(), libs.end(), dynamic_loader_soname(foreign_)), libs.end());
  EXPECT_TRUE(is_system_library(native.image.release, dynamic_loader_soname(host_)));
}

TEST_F(ToolchainResolution, AToolchainThatCannotCrossBuildSaysWhichCan) {
  for (const char* name : {"rockylinux9", "noble"}) {
    try {
      resolve(name, foreign_);
      FAIL() << name << " cross-built";
    } catch (const UsageError& e) {
      EXPECT_THAT(e.what(), HasSubstr(std::string(name) + " cannot cross-build " + foreign_ +
                                      " on this " + host_ + " host"));
      EXPECT_THAT(e.render(), HasSubstr("build on an " + foreign_ + " host"));
      EXPECT_THAT(e.render(), HasSubstr("bookworm, trixie"));
    }
  }
}

TEST_F(ToolchainResolution, AnUnknownArchitectureIsRefusedPrintably) {
  try {
    resolve("trixie", "x86\n;id");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown architecture 'x86\\x0a;id'"));
    EXPECT_THAT(e.render(), HasSubstr("amd64, arm64"));
  }
}

}  // namespace
}  // namespace sf
