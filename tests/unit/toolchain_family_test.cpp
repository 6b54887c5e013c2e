// Toolchain families: the shared defaults, DataDrivenToolchainFamily, and the shipped family
// plugins loaded from their real shared objects.
#include <gtest/gtest.h>

#include <boost/dll/import.hpp>
#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <map>

#include "sf_toolchain/apt.hpp"
#include "sf_toolchain/dnf.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"
#include "slurm_factory/toolchain.hpp"

namespace {

const char* kDemo =
    "family: demo\n"
    "defaults:\n"
    "  build_tools: {compiler: [gcc]}\n"
    "  system_libraries: [libc.so.6, 'libfoo.so.*']\n"
    "releases:\n"
    "  d1: {os_name: Demo, gcc_version: '1.2', glibc_version: '2.3', base_image: demo:1}\n";

// Records what a plugin registers; only toolchain families are expected here.
class RecordingRegistry : public sf::Registry {
 public:
  const sf::PluginContext& context() const override { return context_; }
  void add_toolchain_family(const std::string& name, sf::ToolchainFamilyFactory f) override {
    families[name] = std::move(f);
  }
  void add_container_backend(const std::string& name, sf::ContainerBackendFactory) override {
    others.push_back("backend " + name);
  }
  void add_cache_provider(const std::string& type, sf::CacheProviderFactory) override {
    others.push_back("cache " + type);
  }
  void add_packager(const std::string& name, sf::PackagerFactory) override {
    others.push_back("packager " + name);
  }
  void add_feature(const std::string& name, sf::FeatureFactory) override {
    others.push_back("feature " + name);
  }
  std::map<std::string, sf::ToolchainFamilyFactory> families;
  std::vector<std::string> others;

 private:
  sf::PluginContext context_{nullptr, sf::kAbiVersion, "test"};
};

}  // namespace

TEST(ToolchainFamily, PackageManagerNames) {
  EXPECT_EQ(sf::to_string(sf::PackageManager::kApt), "apt");
  EXPECT_EQ(sf::to_string(sf::PackageManager::kDnf), "dnf");
}

TEST(ToolchainFamily, DataDrivenFamilyServesItsReleasesAndDefaults) {
  sf::DataDrivenToolchainFamily family("demo", kDemo, "demo.yaml");
  EXPECT_EQ(family.name(), "demo");
  const auto releases = family.releases();
  ASSERT_EQ(releases.size(), 1U);
  EXPECT_EQ(releases[0].name, "d1");
  EXPECT_EQ(releases[0].origin, "demo.yaml:6:3");
  const auto defaults = family.release_defaults();
  EXPECT_EQ(defaults.family, "demo");
  EXPECT_EQ(defaults.build_tools.at("compiler"), std::vector<std::string>{"gcc"});
  EXPECT_TRUE(defaults.os_name.empty());
  EXPECT_FALSE(family.bootstrap_recipe(releases[0]));
  EXPECT_EQ(family.setup_packages(releases[0], {"zlib", "gcc"}),
            (std::vector<std::string>{"gcc", "zlib"}));
  // No package manager: the setup script is the interface's error, naming the family and the fix.
  try {
    family.setup_script(releases[0], {});
    FAIL() << "no error";
  } catch (const sf::PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("toolchain family 'demo'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("d1"), std::string::npos) << e.what();
    EXPECT_NE(e.remediation().find("ToolchainFamily::setup_script"), std::string::npos);
    EXPECT_NE(e.remediation().find("AptToolchainFamily"), std::string::npos);
  }
  // The apt family renders the apt script of the same data.
  sf::AptToolchainFamily apt_family("demo", kDemo, "demo.yaml");
  EXPECT_EQ(apt_family.setup_script(releases[0], {}), sf::apt::render_setup_script(releases[0]));
  EXPECT_NE(apt_family.setup_script(releases[0], {}).find("apt-get install"), std::string::npos);
}

TEST(ToolchainFamily, ReleasesFileOfAnotherFamilyIsRefused) {
  try {
    sf::DataDrivenToolchainFamily family("ubuntu", kDemo, "demo.yaml");
    FAIL() << "no error";
  } catch (const sf::ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("family 'demo'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'ubuntu'"), std::string::npos) << e.what();
  }
}

TEST(ToolchainFamily, SystemLibrariesMatchExactNamesAndGlobs) {
  const auto r = sf::DataDrivenToolchainFamily("demo", kDemo, "demo.yaml").releases().at(0);
  EXPECT_TRUE(sf::is_system_library(r, "libc.so.6"));
  EXPECT_TRUE(sf::is_system_library(r, "libfoo.so.3"));
  EXPECT_FALSE(sf::is_system_library(r, "libc.so.7"));
  EXPECT_FALSE(sf::is_system_library(r, "libfoo.so"));
}

// The shipped plugins, as built: entry point, ABI, name, and a family whose releases come from the
// YAML embedded in the shared object.
class ShippedToolchainPlugin : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedToolchainPlugin, LoadsAndRegistersItsFamily) {
  const std::string family = GetParam();
  const std::filesystem::path file =
      std::filesystem::path(SF_TEST_PLUGIN_DIR) / ("libsf-toolchain-" + family + ".so");
  ASSERT_TRUE(std::filesystem::exists(file))
      << file << " is missing: build the target sf-toolchain-" << family;
  boost::dll::shared_library lib(file.string(), boost::dll::load_mode::rtld_now);
  ASSERT_TRUE(lib.has(sf::kPluginEntryPoint));
  auto entry = boost::dll::import_alias<sf::PluginEntryFn>(lib, sf::kPluginEntryPoint);
  const sf::PluginDescriptor* d = entry();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->abi_major, sf::kAbiMajor);
  EXPECT_EQ(d->abi_minor, sf::kAbiMinor);
  EXPECT_EQ(std::string(d->name), "toolchain-" + family);

  RecordingRegistry registry;
  d->register_plugin(registry);
  EXPECT_TRUE(registry.others.empty());
  ASSERT_EQ(registry.families.size(), 1U);
  ASSERT_TRUE(registry.families.count(family));
  auto fam = registry.families.at(family)();
  ASSERT_TRUE(fam);
  EXPECT_EQ(fam->name(), family);
  std::vector<std::string> names;
  for (const auto& r : fam->releases()) {
    names.push_back(r.name);
    EXPECT_EQ(r.family, family);
    EXPECT_EQ(r.origin.rfind("toolchain-" + family + "/releases.yaml:", 0), 0U) << r.origin;
    // The family renders through its package manager's library: apt for ubuntu and debian, dnf
    // for rocky.
    EXPECT_EQ(fam->setup_script(r, {}), family == "rocky" ? sf::dnf::render_setup_script(r)
                                                          : sf::apt::render_setup_script(r));
    EXPECT_EQ(fam->setup_packages(r, {}), sf::setup_packages(r));
    EXPECT_EQ(fam->bootstrap_recipe(r).has_value(), family == "debian") << r.name;
  }
  const std::map<std::string, std::vector<std::string>> expected = {
      {"ubuntu", {"jammy", "noble", "resolute"}},
      {"rocky", {"rockylinux8", "rockylinux9", "rockylinux10"}},
      {"debian", {"bookworm", "trixie"}}};
  EXPECT_EQ(names, expected.at(family));
}

INSTANTIATE_TEST_SUITE_P(Families, ShippedToolchainPlugin,
                         ::testing::Values("ubuntu", "rocky", "debian"),
                         [](const auto& info) { return info.param; });
