#include "gpu_feature.hpp"

#include <gtest/gtest.h>

#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/toolchain.hpp"

namespace sf {
namespace {

ToolchainRelease trixie_like() {
  ToolchainRelease r;
  r.name = "trixie";
  r.origin = "toolchain-debian/releases.yaml:40:3";
  r.gpu_packages["cuda"] = {"libnvidia-ml-dev"};
  r.gpu_packages["rocm"] = {"librocm-smi-dev"};
  return r;
}

TEST(GpuFeature, PackagesComeFromTheReleaseData) {
  GpuFeature f({"gpu-cuda", "cuda", "NVML", "--with-nvml", "gpu_nvml.so"});
  EXPECT_EQ(f.image_packages(trixie_like()), std::vector<std::string>{"libnvidia-ml-dev"});
  EXPECT_EQ(f.configure_args(), std::vector<std::string>{"--with-nvml"});
  EXPECT_EQ(f.required_slurm_plugins(), std::vector<std::string>{"gpu_nvml.so"});
}

TEST(GpuFeature, ReleaseWithoutPackagesIsAConfigurationErrorNamingTheReleaseData) {
  GpuFeature f({"gpu-oneapi", "oneapi", "Level Zero", "--with-oneapi", "gpu_oneapi.so"});
  try {
    (void)f.image_packages(trixie_like());
    FAIL() << "expected a ConfigurationError";
  } catch (const ConfigurationError& e) {
    EXPECT_EQ(e.context_value("release data"), "toolchain-debian/releases.yaml:40:3");
    EXPECT_NE(e.remediation().find("gpu_packages.oneapi"), std::string::npos);
  }
}

// A site release that empties the list (gpu_packages: {cuda: []}) installs nothing for the
// feature: no error at planning time; configure and the required-plugin check decide at build time.
TEST(GpuFeature, AnExplicitlyEmptyListInstallsNothingButKeepsTheFlagAndTheCheck) {
  auto r = trixie_like();
  r.gpu_packages["cuda"] = {};
  GpuFeature f({"gpu-cuda", "cuda", "NVML", "--with-nvml", "gpu_nvml.so"});
  EXPECT_TRUE(f.image_packages(r).empty());
  EXPECT_EQ(f.configure_args(), std::vector<std::string>{"--with-nvml"});
  EXPECT_EQ(f.required_slurm_plugins(), std::vector<std::string>{"gpu_nvml.so"});
}

// The shipped plugins, loaded through the real host: each registers its feature with the right
// configure flag and required Slurm plugin.
TEST(GpuFeature, ShippedPluginsRegisterTheThreeFlavours) {
  PluginHost host;
  const std::vector<std::filesystem::path> paths{SF_TEST_PLUGIN_DIR};
  for (const char* n : {"feature-gpu-cuda", "feature-gpu-rocm", "feature-gpu-oneapi"}) {
    host.load(n, paths);
  }
  struct Want {
    const char* name;
    const char* arg;
    const char* plugin;
  };
  for (const Want& w : {Want{"gpu-cuda", "--with-nvml", "gpu_nvml.so"},
                        Want{"gpu-rocm", "--with-rsmi", "gpu_rsmi.so"},
                        Want{"gpu-oneapi", "--with-oneapi", "gpu_oneapi.so"}}) {
    auto f = host.make_feature(w.name);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->name(), w.name);
    EXPECT_EQ(f->configure_args(), std::vector<std::string>{w.arg});
    EXPECT_EQ(f->required_slurm_plugins(), std::vector<std::string>{w.plugin});
  }
}

}  // namespace
}  // namespace sf
