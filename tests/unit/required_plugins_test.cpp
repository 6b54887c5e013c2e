// The features' required Slurm plugins against a view on disk (a fake Feature: pure logic).
#include "slurm_factory/core/required_plugins.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "../support/temp_dir.hpp"
#include "slurm_factory/feature.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

class FakeFeature : public Feature {
 public:
  FakeFeature(std::string name, std::vector<std::string> plugins)
      : name_(std::move(name)), plugins_(std::move(plugins)) {}
  std::string name() const override { return name_; }
  std::vector<std::string> image_packages(const ToolchainRelease&) const override { return {}; }
  std::vector<std::string> configure_args() const override { return {}; }
  std::vector<std::string> required_slurm_plugins() const override { return plugins_; }

 private:
  std::string name_;
  std::vector<std::string> plugins_;
};

TEST(RequiredPlugins, PresentPluginsPassMissingOnesAreNamed) {
  test::TempDir dir("sf-reqplug");
  const fs::path view = dir.path() / "view";
  fs::create_directories(view / "lib" / "slurm");
  std::ofstream(view / "lib" / "slurm" / "gpu_nvml.so") << "elf";
  fs::create_symlink("gpu_nvml.so", view / "lib" / "slurm" / "gpu_link.so");
  fs::create_directories(view / "lib" / "slurm" / "gpu_dir.so");  // a folder is not a plugin

  FakeFeature cuda("gpu-cuda", {"gpu_nvml.so"});
  FakeFeature rocm("gpu-rocm", {"gpu_rsmi.so"});
  FakeFeature other("gpu-x", {"gpu_link.so", "gpu_dir.so"});
  EXPECT_TRUE(missing_required_plugins(view, {&cuda}).empty());
  EXPECT_TRUE(missing_required_plugins(view, {}).empty());

  const auto missing = missing_required_plugins(view, {&cuda, &rocm, &other});
  ASSERT_EQ(missing.size(), 2U);
  EXPECT_EQ(missing[0].feature, "gpu-rocm");
  EXPECT_EQ(missing[0].plugin, "gpu_rsmi.so");
  EXPECT_EQ(missing[1].feature, "gpu-x");
  EXPECT_EQ(missing[1].plugin, "gpu_dir.so");

  // No lib/slurm at all (a build that produced no plugins): everything is missing.
  EXPECT_EQ(missing_required_plugins(dir.path() / "empty", {&cuda}).size(), 1U);
}

}  // namespace
}  // namespace sf
