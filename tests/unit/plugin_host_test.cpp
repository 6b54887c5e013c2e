// The plugin host against real shared objects built by CMake from tests/plugins/: a good plugin and
// one deliberately broken plugin per refusal.
#include "plugin_host/plugin_host.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <link.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../support/temp_dir.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/feature.hpp"
#include "slurm_factory/toolchain.hpp"

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

fs::path test_plugin_dir() { return fs::path(SF_TEST_BINARY_DIR) / "tests" / "plugins"; }
fs::path test_plugin(const std::string& name) {
  return test_plugin_dir() / ("libsf-" + name + ".so");
}

// Runs `f`, which must throw a PluginError, and returns it.
template <typename F>
sf::PluginError refusal_of(F&& f) {
  try {
    f();
  } catch (const sf::PluginError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a PluginError";
  return sf::PluginError("no error");
}

// Every refusal is one line naming the file.
void expect_one_line(const sf::PluginError& e) {
  EXPECT_THAT(std::string(e.what()), Not(HasSubstr("\n")));
  EXPECT_FALSE(e.remediation().empty());
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sf-plugin-host-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(PluginHost, LoadsAGoodPluginAndHandsItTheHostLogger) {
  std::ostringstream captured;
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  sf::PluginHost host(logger);
  const auto& p = host.load_file(test_plugin("test-good"));
  EXPECT_EQ(p.name, "test-good");
  EXPECT_EQ(p.version, "1.2.3");
  EXPECT_EQ(p.description, "A correct plugin used by the plugin host tests");
  EXPECT_EQ(p.abi, sf::kAbiVersion);
  // SLURM_FACTORY_PLUGIN recorded the fingerprint of the plugin's build: the host's own here.
  EXPECT_EQ(p.toolchain, sf::toolchain_fingerprint());
  EXPECT_THAT(p.toolchain, HasSubstr("nlohmann_json "));
  EXPECT_EQ(p.file, fs::canonical(test_plugin("test-good")));
  using Provided = std::pair<std::string, std::string>;
  EXPECT_THAT(p.provides, ::testing::ElementsAre(Provided{"toolchain", "test-family"},
                                                 Provided{"feature", "test-feature"},
                                                 Provided{"feature", "test-throwing-feature"},
                                                 Provided{"feature", "test-null-feature"}));
  EXPECT_THAT(captured.str(), HasSubstr("test-good registering from " + p.file.string()));

  ASSERT_EQ(host.plugins().size(), 1U);
  EXPECT_THAT(host.toolchain_family_names(), ::testing::ElementsAre("test-family"));
  auto family = host.make_toolchain_family("test-family");
  ASSERT_TRUE(family);
  EXPECT_EQ(family->name(), "test-family");
  ASSERT_EQ(family->releases().size(), 1U);
  EXPECT_EQ(family->releases()[0].name, "test-release");
  auto feature = host.make_feature("test-feature");
  EXPECT_THAT(feature->configure_args(), ::testing::ElementsAre("--with-test"));
}

TEST(PluginHost, LoadByNameFindsLibsfFileInTheFirstPathThatHasIt) {
  TempDir empty;
  sf::PluginHost host;
  const auto& p = host.load("test-good", {empty.path(), test_plugin_dir()});
  EXPECT_EQ(p.name, "test-good");
  EXPECT_EQ(p.file, fs::canonical(test_plugin("test-good")));
  // Loading it again by name returns the loaded plugin.
  EXPECT_EQ(&host.load("test-good", {test_plugin_dir()}), &p);
}

TEST(PluginHost, LoadByPathIsAccepted) {
  sf::PluginHost host;
  EXPECT_EQ(host.load(test_plugin("test-good").string(), {}).name, "test-good");
}

TEST(PluginHost, TheSameFileTwiceIsLoadedOnce) {
  sf::PluginHost host;
  const auto& a = host.load_file(test_plugin("test-good"));
  const auto& b = host.load_file(test_plugin_dir() / "." / "libsf-test-good.so");
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(host.plugins().size(), 1U);
}

TEST(PluginHost, RefusesANameInNoSearchPathListingThePathsSearched) {
  TempDir empty;
  const fs::path missing_dir = empty.path() / "does-not-exist";
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load("test-absent", {empty.path(), missing_dir}); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr("plugin 'test-absent' not found"));
  EXPECT_THAT(e.what(), HasSubstr("libsf-test-absent.so"));
  EXPECT_THAT(e.what(),
              HasSubstr(empty.path().string() + ", " + missing_dir.string() + " (missing)"));
  EXPECT_THAT(e.remediation(), HasSubstr("SLURM_FACTORY_PLUGIN_PATH"));
}

TEST(PluginHost, RefusesAMissingFile) {
  sf::PluginHost host;
  const fs::path file = test_plugin_dir() / "libsf-test-nowhere.so";
  auto e = refusal_of([&] { host.load_file(file); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr(file.string() + " does not exist"));
  EXPECT_THAT(e.what(), HasSubstr("expected a shared object"));
  EXPECT_EQ(e.context_value("file"), file.string());
}

TEST(PluginHost, RefusesATextFileNamedSo) {
  TempDir dir;
  const fs::path file = dir.path() / "libsf-test-text.so";
  std::ofstream(file) << "hello, I am not ELF\n";
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load("test-text", {dir.path()}); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr(fs::canonical(file).string() + " is not a shared object"));
  EXPECT_THAT(e.what(),
              HasSubstr("expected an ELF file, found a file starting with \"hello, I am not "));
}

TEST(PluginHost, RefusesAnEmptyFile) {
  TempDir dir;
  const fs::path file = dir.path() / "libsf-test-empty.so";
  std::ofstream(file).flush();
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(file); });
  EXPECT_THAT(e.what(), HasSubstr("found an empty file"));
}

TEST(PluginHost, RefusesASharedObjectTheLoaderRejectsWithTheLoadersMessage) {
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(test_plugin("test-undefined-symbol")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr(fs::canonical(test_plugin("test-undefined-symbol")).string() +
                                  " could not be loaded as a shared object: "));
  EXPECT_THAT(e.what(), HasSubstr("undefined symbol: sf_test_symbol_nobody_defines"));
  EXPECT_THAT(e.remediation(), HasSubstr("ldd "));
}

TEST(PluginHost, RefusesASharedObjectWithoutEntryPoint) {
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(test_plugin("test-no-entry")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr(fs::canonical(test_plugin("test-no-entry")).string() +
                                  " has no entry point 'slurm_factory_plugin'"));
  EXPECT_THAT(e.what(), HasSubstr("expected a Boost.DLL alias"));
  EXPECT_THAT(e.remediation(), HasSubstr("SLURM_FACTORY_PLUGIN("));
}

TEST(PluginHost, RefusesAnEntryPointReturningNoDescriptor) {
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(test_plugin("test-null-descriptor")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr("returned no descriptor"));
}

// A plugin built before ABI 2.0 (the 1.x descriptor layout: the version fields are where they
// were).
TEST(PluginHost, RefusesAnAbiMajorMismatchNamingBothVersions) {
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(test_plugin("test-abi-major")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr(fs::canonical(test_plugin("test-abi-major")).string()));
  EXPECT_THAT(e.what(), HasSubstr("built for plugin ABI 1.2"));
  EXPECT_THAT(e.what(), HasSubstr("expects ABI " + std::to_string(sf::kAbiMajor) + ".x (host ABI " +
                                  sf::kAbiVersion.str() + ")"));
  EXPECT_EQ(e.context_value("plugin ABI"), "1.2");
  EXPECT_THAT(e.remediation(), HasSubstr("rebuild the plugin"));
  EXPECT_TRUE(host.plugins().empty());
}

TEST(PluginHost, RefusesAnAbiMinorNewerThanTheHost) {
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(test_plugin("test-abi-minor")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(),
              HasSubstr("built for plugin ABI " + std::to_string(sf::kAbiMajor) +
                        ".99, newer than this slurm-factory's ABI " + sf::kAbiVersion.str()));
  EXPECT_THAT(e.remediation(), HasSubstr("upgrade slurm-factory"));
}

// The plugin was compiled with another compiler (its fingerprint says gcc 99.1): refused in one
// line naming both fingerprints, before any of its code runs (its register function throws).
TEST(PluginHost, RefusesAPluginBuiltWithAnotherToolchainNamingBothFingerprints) {
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(test_plugin("test-fingerprint")); });
  expect_one_line(e);
  const std::string host_fp = sf::toolchain_fingerprint();
  const std::string plugin_fp = "gcc 99.1" + host_fp.substr(host_fp.find(';'));
  EXPECT_THAT(e.what(), HasSubstr(fs::canonical(test_plugin("test-fingerprint")).string() +
                                  " was built with toolchain '" + plugin_fp +
                                  "', this slurm-factory with '" + host_fp + "'"));
  EXPECT_EQ(e.context_value("plugin toolchain"), plugin_fp);
  EXPECT_EQ(e.context_value("host toolchain"), host_fp);
  EXPECT_THAT(e.remediation(), HasSubstr("rebuild the plugin against this slurm-factory's SDK"));
  EXPECT_TRUE(host.plugins().empty());
}

TEST(PluginHost, RefusesADuplicatePluginName) {
  sf::PluginHost host;
  host.load_file(test_plugin("test-good"));
  auto e = refusal_of([&] { host.load_file(test_plugin("test-good-copy")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr(fs::canonical(test_plugin("test-good-copy")).string() +
                                  " is named 'test-good', but plugin 'test-good' is already "
                                  "loaded from " +
                                  fs::canonical(test_plugin("test-good")).string()));
  EXPECT_EQ(host.plugins().size(), 1U);
}

TEST(PluginHost, RefusesAFactoryNameTakenByAnotherPluginAndKeepsNothingOfIt) {
  sf::PluginHost host;
  host.load_file(test_plugin("test-dup-a"));
  auto e = refusal_of([&] { host.load_file(test_plugin("test-dup-b")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr("plugin 'test-dup-b' (" +
                                  fs::canonical(test_plugin("test-dup-b")).string() +
                                  ") registers toolchain family 'dup-family', already registered "
                                  "by plugin 'test-dup-a'"));
  EXPECT_EQ(host.plugins().size(), 1U);
  EXPECT_THAT(host.feature_names(), ::testing::ElementsAre("test-dup-a-feature"));
}

TEST(PluginHost, RefusesAFactoryNameRegisteredTwiceByOnePlugin) {
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(test_plugin("test-dup-within")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr("registers feature 'test-dup-within-feature' twice"));
  EXPECT_TRUE(host.feature_names().empty());
}

TEST(PluginHost, ARefusalThePluginSwallowsIsARefusalAllTheSame) {
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(test_plugin("test-dup-swallowed")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr("registers feature 'test-dup-swallowed-feature' twice"));
  EXPECT_TRUE(host.feature_names().empty());
  EXPECT_TRUE(host.plugins().empty());
}

TEST(PluginHost, WrapsARegisterFunctionThatThrowsAndSurvives) {
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(test_plugin("test-register-throws")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr("plugin 'test-register-throws' (" +
                                  fs::canonical(test_plugin("test-register-throws")).string() +
                                  ") failed in its register function: boom from the test plugin"));
  EXPECT_THAT(e.what(), HasSubstr("nothing it registered was kept"));
  EXPECT_TRUE(host.feature_names().empty());
  EXPECT_TRUE(host.plugins().empty());
  // The host goes on.
  EXPECT_EQ(host.load_file(test_plugin("test-good")).name, "test-good");
}

TEST(PluginHost, WrapsANonStandardExceptionFromRegister) {
  sf::PluginHost host;
  auto e = refusal_of([&] { host.load_file(test_plugin("test-register-throws-int")); });
  expect_one_line(e);
  EXPECT_THAT(e.what(), HasSubstr("failed in its register function with a non-standard exception"));
}

TEST(PluginHost, FactoryRefusalsNameTheKindAndTheLoadedAlternatives) {
  sf::PluginHost host;
  host.load_file(test_plugin("test-good"));
  auto unknown = refusal_of([&] { host.make_toolchain_family("nope"); });
  EXPECT_THAT(unknown.what(), HasSubstr("no loaded plugin provides toolchain family 'nope' "
                                        "(loaded: test-family)"));
  auto none = refusal_of([&] { host.make_packager("tarball", nlohmann::json::object()); });
  EXPECT_THAT(none.what(), HasSubstr("packager 'tarball' (loaded: none)"));
  auto throwing = refusal_of([&] { host.make_feature("test-throwing-feature"); });
  EXPECT_THAT(throwing.what(), HasSubstr("plugin 'test-good' failed to create feature "
                                         "'test-throwing-feature': feature factory failed on "
                                         "purpose"));
  auto null = refusal_of([&] { host.make_feature("test-null-feature"); });
  EXPECT_THAT(null.what(), HasSubstr("returned no object for feature 'test-null-feature'"));
}

// A cache plugin registered with add_cache_provider declares no settings (they are not checked),
// and a provider that does not override get_at_most gets the SDK's default from the core library:
// get plus a size check.
TEST(PluginHost, CacheProviderWithoutGetAtMostUsesTheSdkDefault) {
  sf::PluginHost host;
  host.load_file(test_plugin("test-cache-plain"));
  EXPECT_EQ(host.cache_provider_info("plain"), nullptr);
  auto provider = host.make_cache_provider({"old", "plain", "x://", false, {}});
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->name(), "plain");
  sf::test::TempDir dir("sf-cache-plain");
  auto refused = provider->get_at_most("k", dir / "k", 10);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("more than the 10"));
  EXPECT_FALSE(fs::exists(dir / "k"));
  ASSERT_TRUE(provider->get_at_most("k", dir / "k", 100));
  EXPECT_EQ(fs::file_size(dir / "k"), 100U);
}

// The test links the fully-visible core (<build>/lib-full, same SONAME as the public library the
// plugin was linked against): the plugin's DT_NEEDED binds to the core already loaded, so the
// process holds one core library, not the public one beside it.
TEST(PluginHost, APluginBindsToTheCoreLibraryAlreadyLoaded) {
  sf::PluginHost host;
  host.load_file(test_plugin("test-good"));
  std::vector<std::string> cores;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        const std::string name = info->dlpi_name != nullptr ? info->dlpi_name : "";
        if (name.find("libslurm-factory-core.so") != std::string::npos)
          static_cast<std::vector<std::string>*>(data)->push_back(name);
        return 0;
      },
      &cores);
  ASSERT_EQ(cores.size(), 1U) << ::testing::PrintToString(cores);
  EXPECT_EQ(fs::path(cores[0]).parent_path().filename(), "lib-full") << cores[0];
}

TEST(PluginHost, ObjectsFromAPluginOutliveTheirHost) {
  std::unique_ptr<sf::ToolchainFamily> family;
  {
    sf::PluginHost host;
    host.load_file(test_plugin("test-good"));
    family = host.make_toolchain_family("test-family");
  }
  // The library is still mapped: the object's code and vtable are still there.
  EXPECT_EQ(family->releases().at(0).gcc_version, "1.0");
}

TEST(PluginSearchPath, EnvironmentThenConfiguredThenBesideTheBinary) {
  ASSERT_EQ(setenv("SLURM_FACTORY_PLUGIN_PATH", "/env/one::/env/two/", 1), 0);
  auto paths = sf::default_plugin_search_paths({"/configured", "/env/one"});
  unsetenv("SLURM_FACTORY_PLUGIN_PATH");
  ASSERT_GE(paths.size(), 4U);
  EXPECT_EQ(paths[0], fs::path("/env/one"));
  EXPECT_EQ(paths[1], fs::path("/env/two"));
  EXPECT_EQ(paths[2], fs::path("/configured"));
  // The test binary sits in <build>/tests: its plugin directory is
  // <build>/lib/slurm-factory/plugins, the same one the core library's location gives (so it
  // appears once).
  EXPECT_EQ(paths[3], fs::path(SF_TEST_PLUGIN_DIR).lexically_normal());
  EXPECT_EQ(paths.size(), 4U);
}

TEST(PluginSearchPath, WithoutEnvironmentOnlyTheBuiltinDirectory) {
  unsetenv("SLURM_FACTORY_PLUGIN_PATH");
  EXPECT_TRUE(sf::env_plugin_search_paths().empty());
  EXPECT_THAT(sf::builtin_plugin_search_paths(),
              ::testing::ElementsAre(fs::path(SF_TEST_PLUGIN_DIR).lexically_normal()));
}

}  // namespace

// --- where plugins may come from: like the dynamic loader's secure mode -------------------------

namespace {

// A private copy of the good test plugin in a fresh folder under a 0700 mkdtemp folder.
class PluginTrust : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sf-plugin-trust-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ / "plugins";
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms(0755), fs::perm_options::replace);
    so_ = dir_ / "libsf-test-good.so";
    fs::copy_file(test_plugin("test-good"), so_);
    fs::permissions(so_, fs::perms(0755), fs::perm_options::replace);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static sf::PluginError refused(const fs::path& file) {
    sf::PluginHost host;
    return refusal_of([&] { host.load_file(file); });
  }

  fs::path root_;
  fs::path dir_;
  fs::path so_;
};

TEST_F(PluginTrust, APrivateCopyLoads) {
  sf::PluginHost host;
  EXPECT_EQ(host.load("test-good", {dir_}).name, "test-good");
}

TEST_F(PluginTrust, AWorldWritableSharedObjectIsRefused) {
  fs::permissions(so_, fs::perms::others_write, fs::perm_options::add);
  const auto e = refused(so_);
  EXPECT_THAT(e.what(), HasSubstr("writable by every user"));
  EXPECT_EQ(e.context_value("file"), fs::canonical(so_).string());
  expect_one_line(e);
  // Found through a search path, the same.
  sf::PluginHost host;
  const auto e2 = refusal_of([&] { host.load("test-good", {dir_}); });
  EXPECT_THAT(e2.what(), HasSubstr("writable by every user"));
}

TEST_F(PluginTrust, AWorldWritablePluginFolderIsRefusedEvenWithTheStickyBit) {
  for (const auto mode : {fs::perms(0777), fs::perms(01777)}) {
    fs::permissions(dir_, mode, fs::perm_options::replace);
    const auto e = refused(so_);
    EXPECT_THAT(e.what(), HasSubstr("a folder every user can write to"));
    expect_one_line(e);
  }
}

TEST_F(PluginTrust, AWorldWritableFolderAboveWithoutStickyBitIsRefused) {
  fs::permissions(root_, fs::perms(0777), fs::perm_options::replace);
  const auto e = refused(so_);
  EXPECT_THAT(e.what(), HasSubstr("lies under " + root_.string()));
  // With the sticky bit (like /tmp) nobody else can rename the folder away: accepted.
  fs::permissions(root_, fs::perms(01777), fs::perm_options::replace);
  sf::PluginHost host;
  EXPECT_EQ(host.load_file(so_).name, "test-good");
}

TEST_F(PluginTrust, AsRootAPluginOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CI runs the suite as root)";
  ASSERT_EQ(::chown(so_.c_str(), 65534, 65534), 0);
  auto e = refused(so_);
  EXPECT_THAT(e.what(), HasSubstr("owned by uid 65534, not root"));
  ASSERT_EQ(::chown(so_.c_str(), 0, 0), 0);
  ASSERT_EQ(::chown(dir_.c_str(), 65534, 65534), 0);
  e = refused(so_);
  EXPECT_THAT(e.what(), HasSubstr("owned by uid 65534, not root"));
}

TEST_F(PluginTrust, ARelativeSearchPathIsRefused) {
  const fs::path cwd = fs::current_path();
  fs::current_path(root_);
  sf::PluginHost host;
  const auto e = refusal_of([&] { host.load("test-good", {"plugins"}); });
  fs::current_path(cwd);
  EXPECT_THAT(e.what(), HasSubstr("plugin search path 'plugins' is relative"));
  expect_one_line(e);
}

}  // namespace
