// The expected plugins against a view on disk: the features' required plugins (a fake Feature:
// pure logic) and the slurm recipe's expected_plugins as planned for the shipped releases.
#include "recipes/required_plugins.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../support/temp_dir.hpp"
#include "slurm_factory/errors.hpp"
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

ToolchainRelease shipped(const std::string& family, const std::string& name) {
  const fs::path path =
      fs::path(SF_TEST_SOURCE_DIR) / "plugins/toolchains" / family / "releases.yaml";
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  for (auto& r : parse_toolchain_releases(s.str(), path.string())) {
    if (r.name == name) return r;
  }
  ADD_FAILURE() << "no release " << name << " in " << path;
  return {};
}

Plan plan_for(const ToolchainRelease& release, const std::string& slurm = "24.11.5") {
  static const RecipeBook book =
      RecipeBook::load_directory(fs::path(SF_TEST_SOURCE_DIR) / "configs" / "recipes");
  PlanRequest r;
  r.slurm_version = slurm;
  r.toolchain = release;
  r.toolchain_image_hash = "sha256:1111";
  return make_plan(book, r);
}

// A view holding every expected file of `plan` but `except`.
fs::path fake_view(const fs::path& dir, const Plan& plan, const std::string& except = "") {
  const fs::path view = dir / "view";
  for (const auto& e : plan.expected_plugins) {
    if (e.file == except) continue;
    fs::create_directories((view / e.file).parent_path());
    std::ofstream(view / e.file) << "elf";
  }
  return view;
}

std::string error_of(const fs::path& view, const Plan& plan) {
  try {
    require_plugins(view, plan.expected_plugins, {},
                    {"slurm 24.11.5", "/logs/slurm.log", "e", "o"});
  } catch (const BuildError& e) {
    return e.what() + std::string("\n") + e.render();
  }
  return "";
}

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
  EXPECT_EQ(missing[0].file, "lib/slurm/gpu_rsmi.so");
  EXPECT_EQ(missing[1].feature, "gpu-x");
  EXPECT_EQ(missing[1].plugin, "gpu_dir.so");

  // No lib/slurm at all (a build that produced no plugins): everything is missing.
  EXPECT_EQ(missing_required_plugins(dir.path() / "empty", {&cuda}).size(), 1U);
}

// The test: a build image without libfreeipmi-dev (configure warns and skips the plugin)
// fails naming acct_gather_energy/ipmi and the package that provides it.
TEST(RequiredPlugins, ViewWithoutIpmiPluginFailsNamingPluginAndDevPackage) {
  test::TempDir dir("sf-reqplug");
  const Plan plan = plan_for(shipped("debian", "trixie"));
  const fs::path view = fake_view(dir.path(), plan, "lib/slurm/acct_gather_energy_ipmi.so");
  const std::string err = error_of(view, plan);
  EXPECT_NE(err.find("acct_gather_energy/ipmi"), std::string::npos) << err;
  EXPECT_NE(err.find("libfreeipmi-dev"), std::string::npos) << err;
  EXPECT_NE(err.find("view/lib/slurm/acct_gather_energy_ipmi.so"), std::string::npos) << err;
  EXPECT_NE(err.find("/logs/slurm.log"), std::string::npos) << err;
  EXPECT_EQ(err.find("hdf5"), std::string::npos) << "only the missing one is named: " << err;

  // Complete: no error. Every file is checked, so removing any one fails.
  const fs::path full = fake_view(dir.path() / "full", plan);
  EXPECT_EQ(error_of(full, plan), "");
  for (const auto& e : plan.expected_plugins) {
    fs::rename(full / e.file, full / (e.file + ".away"));
    const std::string one = error_of(full, plan);
    EXPECT_NE(one.find(e.plugin + ": view/" + e.file + " is missing, provided by " + e.provider),
              std::string::npos)
        << one;
    fs::rename(full / (e.file + ".away"), full / e.file);
  }

  // A feature's required plugin joins the same check.
  FakeFeature cuda("gpu-cuda", {"gpu_nvml.so"});
  try {
    require_plugins(full, plan.expected_plugins, {&cuda}, {"slurm 24.11.5", "", "e", "o"});
    ADD_FAILURE() << "no error for a missing gpu_nvml.so";
  } catch (const BuildError& e) {
    EXPECT_NE(std::string(e.what()).find("gpu_nvml.so (feature gpu-cuda)"), std::string::npos);
    EXPECT_EQ(e.context_value("log"), "(Slurm came from the cache)");
  }
}

// A site release that empties a plugin's dev packages (`dev_packages: {freeipmi: []}`, what
// tests/e2e/missing-plugin.sh builds) or a release that has no entry for it: the provider says
// which, and where the release and the expectation are written.
TEST(RequiredPlugins, AnEmptiedOrUndefinedDevPackageListIsNamedWithWhereItIsWritten) {
  ToolchainRelease release = shipped("debian", "trixie");
  release.name = "trixie-no-ipmi";
  release.origin = "/etc/site.yaml:10:5";
  release.dev_packages["freeipmi"] = {};
  auto provider_of = [](const Plan& plan, const std::string& plugin) {
    for (const auto& e : plan.expected_plugins) {
      if (e.plugin == plugin) return e.provider;
    }
    return std::string("(not expected)");
  };
  const std::string emptied = provider_of(plan_for(release), "acct_gather_energy/ipmi");
  EXPECT_NE(emptied.find("dev_packages.freeipmi, which release trixie-no-ipmi leaves empty, "
                         "defined at /etc/site.yaml:10:5"),
            std::string::npos)
      << emptied;
  EXPECT_NE(emptied.find("(expected at "), std::string::npos) << emptied;
  EXPECT_NE(emptied.find("slurm.yaml:"), std::string::npos) << emptied;

  release.dev_packages.erase("freeipmi");
  const std::string undefined = provider_of(plan_for(release), "acct_gather_energy/ipmi");
  EXPECT_NE(undefined.find("dev_packages.freeipmi, which release trixie-no-ipmi does not define"),
            std::string::npos)
      << undefined;
}

// Point 4 of the issue, for every shipped toolchain: the plan expects each plugin and names the
// release's own package for it.
TEST(RequiredPlugins, EveryShippedToolchainExpectsThePluginsOfTheOriginal) {
  struct Case {
    std::string family, release, ipmi, hdf5;
  };
  for (const Case& c : {Case{"debian", "bookworm", "libfreeipmi-dev", "libhdf5-dev"},
                        Case{"debian", "trixie", "libfreeipmi-dev", "libhdf5-dev"},
                        Case{"ubuntu", "jammy", "libfreeipmi-dev", "libhdf5-dev"},
                        Case{"ubuntu", "noble", "libfreeipmi-dev", "libhdf5-dev"},
                        Case{"ubuntu", "resolute", "libfreeipmi-dev", "libhdf5-dev"},
                        Case{"rocky", "rockylinux8", "freeipmi-devel", "hdf5-devel"},
                        Case{"rocky", "rockylinux9", "freeipmi-devel", "hdf5-devel"},
                        Case{"rocky", "rockylinux10", "freeipmi-devel", "hdf5-devel"}}) {
    for (const char* slurm : {"22.05.8", "23.11.11", "24.11.5", "25.11.6", "26.05.0"}) {
      const ToolchainRelease rel = shipped(c.family, c.release);
      const Plan plan = plan_for(rel, slurm);
      std::map<std::string, PlannedPlugin> by;
      for (const auto& e : plan.expected_plugins) by[e.plugin] = e;
      const std::string where = c.release + " " + slurm;
      for (const char* p : {"acct_gather_energy/ipmi", "acct_gather_profile/hdf5", "cgroup/v2",
                            "contribs/pmi2", "contribs/nss_slurm", "contribs/pam_slurm_adopt"}) {
        EXPECT_EQ(by.count(p), 1U) << where << ": " << p;
      }
      EXPECT_NE(by["acct_gather_energy/ipmi"].provider.find(c.ipmi), std::string::npos) << where;
      EXPECT_EQ(by["acct_gather_energy/ipmi"].file, "lib/slurm/acct_gather_energy_ipmi.so");
      EXPECT_NE(by["acct_gather_profile/hdf5"].provider.find(c.hdf5), std::string::npos) << where;
      EXPECT_EQ(by["contribs/pam_slurm_adopt"].file, "lib/security/pam_slurm_adopt.so");
      // No shipped release has an s2n package: tls/s2n is expected only where one does.
      EXPECT_EQ(by.count("tls/s2n"), 0U) << where;
      // What the plan expects, the build image installs.
      for (const char* dev : {"freeipmi", "hdf5", "bpf", "dbus"}) {
        EXPECT_TRUE(std::find(plan.system_packages.begin(), plan.system_packages.end(), dev) !=
                    plan.system_packages.end())
            << where << ": " << dev;
        EXPECT_FALSE(rel.dev_packages.at(dev).empty()) << where << ": " << dev;
      }
    }
  }
}

TEST(RequiredPlugins, S2nIsExpectedFrom2505WhereTheReleaseHasIt) {
  ToolchainRelease rel = shipped("rocky", "rockylinux9");
  rel.dev_packages["s2n"] = {"s2n-tls-devel"};
  auto names = [&](const std::string& slurm) {
    std::set<std::string> out;
    for (const auto& e : plan_for(rel, slurm).expected_plugins)
      out.insert(e.plugin + "=" + e.provider);
    return out;
  };
  EXPECT_EQ(names("24.11.5").count("tls/s2n=s2n-tls-devel (dev_packages.s2n of rockylinux9)"), 0U);
  EXPECT_EQ(names("25.11.6").count("tls/s2n=s2n-tls-devel (dev_packages.s2n of rockylinux9)"), 1U);
}

}  // namespace
}  // namespace sf
