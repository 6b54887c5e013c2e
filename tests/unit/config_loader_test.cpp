#include "config/config_loader.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

class ConfigLoader : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("sf-config-loader-" + std::to_string(rd()));
    fs::create_directories(dir_ / "home");
    sources_.read_system_file = false;
    sources_.read_user_file = false;
    sources_.environment = {{"HOME", (dir_ / "home").string()}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }

  fs::path dir_;
  ConfigSources sources_;
};

TEST_F(ConfigLoader, EmbeddedDefaultAloneIsASaneConfig) {
  const Config c = load_config(sources_);
  EXPECT_EQ(c.cache_dir, dir_ / "home" / ".slurm-factory");
  EXPECT_EQ(c.default_backend, "docker");
  ASSERT_EQ(c.cache_layers.size(), 1U);
  EXPECT_EQ(c.cache_layers[0].name, "local");
  EXPECT_EQ(c.cache_layers[0].type, "local");
  EXPECT_EQ(c.cache_layers[0].url,
            "file://" + (dir_ / "home" / ".slurm-factory" / "cache").string());
  EXPECT_TRUE(c.cache_layers[0].writable);
  for (const char* p : {"toolchain-ubuntu", "toolchain-rocky", "toolchain-debian"}) {
    EXPECT_NE(std::find(c.plugins.begin(), c.plugins.end(), p), c.plugins.end()) << p;
  }
  EXPECT_EQ(c.build.jobs, 0);
  EXPECT_EQ(c.build.memory, "8g");
  EXPECT_EQ(c.build.pids, 4096);
  EXPECT_FALSE(c.build.network);
  EXPECT_EQ(c.toolchain_families.at("debian").mirror, "http://deb.debian.org/debian");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_TRUE(c.toolchains.empty());
  EXPECT_EQ(c.profile, "");
  EXPECT_EQ(c.origin_of("build.jobs"), "default");
  EXPECT_EQ(c.origin_of("cache.layers[0].url"), "default");
  EXPECT_NE(embedded_default_config().find("cache_dir:"), std::string_view::npos);
}

TEST_F(ConfigLoader, LayersApplyInOrderSystemUserThenEachConfigFile) {
  sources_.read_system_file = true;
  sources_.system_file = write("etc/config.yaml", "build:\n  jobs: 1\n  pids: 100\n  shm: 2g\n");
  sources_.read_user_file = true;
  write("home/.config/slurm-factory/config.yaml", "build:\n  jobs: 2\n  pids: 200\n");
  sources_.files = {write("a.yaml", "build:\n  jobs: 3\n"),
                    write("b.yaml", "\n\nbuild: {jobs: 4}\n")};
  const Config c = load_config(sources_);
  EXPECT_EQ(c.build.jobs, 4);
  EXPECT_EQ(c.build.pids, 200);
  EXPECT_EQ(c.build.shm, "2g");
  EXPECT_EQ(c.build.memory, "8g");
  EXPECT_EQ(c.origin_of("build.jobs"), (dir_ / "b.yaml").string() + ":3:15");
  EXPECT_EQ(c.origin_of("build.pids"),
            (dir_ / "home/.config/slurm-factory/config.yaml").string() + ":3:9");
  EXPECT_EQ(c.origin_of("build.shm"), (dir_ / "etc/config.yaml").string() + ":4:8");
  EXPECT_EQ(c.origin_of("build.memory"), "default");
}

TEST_F(ConfigLoader, XdgConfigHomeLocatesTheUserFile) {
  sources_.read_user_file = true;
  sources_.environment["XDG_CONFIG_HOME"] = (dir_ / "xdg").string();
  write("xdg/slurm-factory/config.yaml", "backend: podman\n");
  EXPECT_EQ(user_config_file(sources_), dir_ / "xdg/slurm-factory/config.yaml");
  EXPECT_EQ(load_config(sources_).default_backend, "podman");
}

TEST_F(ConfigLoader, MissingDefaultLocationsAreSkippedButMissingConfigFileIsAnError) {
  sources_.read_system_file = true;
  sources_.system_file = dir_ / "no-such-etc.yaml";
  sources_.read_user_file = true;
  EXPECT_NO_THROW(load_config(sources_));
  sources_.files = {dir_ / "missing.yaml"};
  try {
    load_config(sources_);
    FAIL() << "no error";
  } catch (const ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
    EXPECT_EQ(e.context_value("file"), (dir_ / "missing.yaml").string());
  }
}

TEST_F(ConfigLoader, YamlSyntaxErrorHasLineAndColumn) {
  sources_.files = {write("bad.yaml", "build:\n  jobs: [1, 2\n")};
  try {
    load_config(sources_);
    FAIL() << "no error";
  } catch (const ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("YAML syntax error"), std::string::npos) << e.what();
    EXPECT_EQ(e.context_value("file").rfind((dir_ / "bad.yaml").string() + ":", 0), 0U)
        << e.context_value("file");
  }
}

TEST_F(ConfigLoader, SchemaErrorsNameTheFileLineAndColumn) {
  sources_.files = {write("typo.yaml",
                          "cache:\n  layers:\n    - name: local\n      type: local\n"
                          "      url: file:///tmp/x\n    - name: s3\n      tyep: s3\n")};
  try {
    load_config(sources_);
    FAIL() << "no error";
  } catch (const ConfigurationError& e) {
    EXPECT_EQ(e.context_value("file"), (dir_ / "typo.yaml").string() + ":7:7");
    EXPECT_EQ(e.context_value("key"), "cache.layers[1].tyep");
  }
}

TEST_F(ConfigLoader, EnvironmentOverridesFilesWithItsOwnOrigin) {
  sources_.files = {write("c.yaml", "cache_dir: /from/file\nplugins:\n  search_paths: [/cfg/p]\n")};
  sources_.environment["SLURM_FACTORY_CACHE_DIR"] = (dir_ / "envcache").string();
  sources_.environment["SLURM_FACTORY_PLUGIN_PATH"] = "/env/a::/env/b";
  const Config c = load_config(sources_);
  EXPECT_EQ(c.cache_dir, dir_ / "envcache");
  EXPECT_EQ(c.origin_of("cache_dir"), "env SLURM_FACTORY_CACHE_DIR");
  // The default local layer follows the cache dir wherever it was set.
  EXPECT_EQ(c.cache_layers[0].url, "file://" + (dir_ / "envcache" / "cache").string());
  ASSERT_EQ(c.plugin_search_paths.size(), 3U);
  EXPECT_EQ(c.plugin_search_paths[0], "/env/a");
  EXPECT_EQ(c.plugin_search_paths[1], "/env/b");
  EXPECT_EQ(c.plugin_search_paths[2], "/cfg/p");
  EXPECT_EQ(c.origin_of("plugins.search_paths[1]"), "env SLURM_FACTORY_PLUGIN_PATH");
  EXPECT_EQ(c.origin_of("plugins.search_paths[2]"), (dir_ / "c.yaml").string() + ":3:18");
}

TEST_F(ConfigLoader, ListsReplaceAndNamedEntriesMerge) {
  sources_.files = {write("a.yaml",
                          "plugins: {load: [toolchain-debian]}\n"
                          "toolchains:\n  one: {family: debian, base_image: 'debian:12'}\n"
                          "  two: {family: ubuntu}\n"),
                    write("b.yaml", "toolchains:\n  two:\n    family: rocky\n")};
  const Config c = load_config(sources_);
  EXPECT_EQ(c.plugins, std::vector<std::string>{"toolchain-debian"});
  ASSERT_EQ(c.toolchains.size(), 2U);
  EXPECT_EQ(c.toolchains[0].name, "one");
  EXPECT_EQ(c.toolchains[0].family, "debian");
  EXPECT_EQ(c.toolchains[0].definition["base_image"].as<std::string>(), "debian:12");
  EXPECT_EQ(c.toolchains[0].origin, (dir_ / "a.yaml").string() + ":3:8");
  EXPECT_EQ(c.toolchains[1].family, "rocky");
  EXPECT_EQ(c.toolchains[1].origin, (dir_ / "b.yaml").string() + ":3:5");
  // Marks survive for the toolchain code's own file:line:col errors.
  EXPECT_EQ(c.toolchains[1].definition["family"].Mark().line, 2);
  EXPECT_EQ(c.toolchains[1].definition["family"].Mark().column, 12);
}

TEST_F(ConfigLoader, ApplyOverrideSetsTypedValueWithFlagOrigin) {
  Config c = load_config(sources_);
  apply_override(c, "build.jobs", "8", "--jobs");
  EXPECT_EQ(c.build.jobs, 8);
  EXPECT_EQ(c.origin_of("build.jobs"), "--jobs");
  apply_override(c, "backend", "podman", "--backend");
  EXPECT_EQ(c.default_backend, "podman");
  apply_override(c, "plugins.load", "toolchain-debian,backend-podman", "--plugins");
  EXPECT_EQ(c.plugins, (std::vector<std::string>{"toolchain-debian", "backend-podman"}));
  apply_override(c, "cache_dir", (dir_ / "flag").string(), "--local-cache");
  EXPECT_EQ(c.cache_layers[0].url, "file://" + (dir_ / "flag" / "cache").string());
  apply_override(c, "cache.layers", "[{name: only, type: local, url: 'file:///x'}]", "--cache");
  ASSERT_EQ(c.cache_layers.size(), 1U);
  EXPECT_EQ(c.cache_layers[0].name, "only");
  EXPECT_EQ(c.origin_of("cache.layers[0].name"), "--cache");
  EXPECT_EQ(c.build.memory, "8g");  // untouched values stay
}

TEST_F(ConfigLoader, ApplyOverrideRefusesBadKeysAndValuesAsUsageErrors) {
  Config c = load_config(sources_);
  try {
    apply_override(c, "build.jobs", "lots", "--jobs");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--jobs"), std::string::npos) << e.what();
    EXPECT_EQ(e.context_value("option"), "--jobs");
  }
  EXPECT_THROW(apply_override(c, "build.jbos", "1", "--jobs"), UsageError);
  EXPECT_THROW(apply_override(c, "cache.layers[0].url", "file:///x", "--x"), UsageError);
  EXPECT_THROW(apply_override(c, "signing.passphrase_env", "not a name", "--p"), UsageError);
  EXPECT_EQ(c.build.jobs, 0);
}

TEST_F(ConfigLoader, TildeNeedsHome) {
  sources_.environment.erase("HOME");
  try {
    load_config(sources_);
    FAIL() << "no error";
  } catch (const ConfigurationError& e) {
    EXPECT_EQ(e.context_value("key"), "cache_dir");
    EXPECT_NE(e.remediation().find("SLURM_FACTORY_CACHE_DIR"), std::string::npos);
  }
  sources_.environment["SLURM_FACTORY_CACHE_DIR"] = "/var/cache/sf";
  EXPECT_EQ(load_config(sources_).cache_dir, "/var/cache/sf");
}

TEST_F(ConfigLoader, CrossKeyChecksNameTheOrigin) {
  sources_.files = {write("dup.yaml",
                          "cache:\n  layers:\n    - {name: a, type: local, url: 'file:///a'}\n"
                          "    - {name: a, type: local, url: 'file:///b'}\n")};
  try {
    load_config(sources_);
    FAIL() << "no error";
  } catch (const ConfigurationError& e) {
    EXPECT_EQ(e.context_value("key"), "cache.layers[1].name");
    EXPECT_EQ(e.context_value("file"), (dir_ / "dup.yaml").string() + ":4:14");
  }
  sources_.files = {write("sign.yaml", "signing: {require_signed: true, allow_unsigned: true}\n")};
  EXPECT_THROW(load_config(sources_), ConfigurationError);
}

TEST_F(ConfigLoader, FromGlobalReadsConfigFilesProfileAndEnvironment) {
  GlobalOptions g;
  g.config_files = {"/x/a.yaml", "b.yaml"};
  g.profile = "ci";
  const ConfigSources s = ConfigSources::from_global(g);
  EXPECT_EQ(s.files, (std::vector<fs::path>{"/x/a.yaml", "b.yaml"}));
  EXPECT_EQ(s.profile, "ci");
  EXPECT_TRUE(s.read_system_file);
  EXPECT_TRUE(s.read_user_file);
  EXPECT_EQ(s.system_file, "/etc/slurm-factory/config.yaml");
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// The example in configs/examples/ (and docs/config.md) stays valid, with each of its profiles.
TEST(ConfigExamples, SiteConfigLoadsWithEveryProfile) {
  ConfigSources s;
  s.read_system_file = false;
  s.read_user_file = false;
  s.environment = {{"HOME", "/home/admin"}};
  s.files = {std::filesystem::path(SF_TEST_SOURCE_DIR) / "configs/examples/site-config.yaml"};
  const Config site = load_config(s);
  EXPECT_EQ(site.cache_layers.size(), 3U);
  EXPECT_EQ(site.cache_layers[0].url, "file:///var/cache/slurm-factory/cache");
  EXPECT_EQ(site.available_profiles, (std::vector<std::string>{"ci", "laptop", "site"}));
  EXPECT_EQ(site.toolchains.at(0).name, "noble-site");
  for (const auto& p : site.available_profiles) {
    s.profile = p;
    EXPECT_NO_THROW(load_config(s)) << p;
  }
  s.profile = "laptop";
  const Config laptop = load_config(s);
  EXPECT_EQ(laptop.cache_layers[0].url, "file:///home/admin/.slurm-factory/cache");
  EXPECT_EQ(laptop.build.jobs, 4);
  s.profile = "ci";
  EXPECT_EQ(load_config(s).signing.private_key_env, "SLURM_FACTORY_CI_SIGNING_KEY");
}

}  // namespace
}  // namespace sf

// --- bounds: alias expansion ("billion laughs"), file size, relative plugin search paths --------

namespace sf {
namespace {

// 398 bytes of nested aliases ("billion laughs", like the 441-byte file) under a free-form
// key every command walks: 9^9 strings once expanded (today: minutes and gigabytes).
const char* const kBillionLaughs =
    "backends:\n"
    "  docker:\n"
    "    a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    "    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";

TEST_F(ConfigLoader, NestedAliasesAreAConfigErrorAtTheirLine) {
  const fs::path bomb = write("bomb.yaml", kBillionLaughs);
  sources_.files = {bomb};
  const auto started = std::chrono::steady_clock::now();
  try {
    load_config(sources_);
    FAIL() << "the alias bomb loaded";
  } catch (const ConfigurationError& e) {
    // The alias that crosses the budget, with its file:line:col.
    EXPECT_EQ(e.context_value("file").rfind(bomb.string() + ":", 0), 0U) << e.what();
    EXPECT_NE(std::string(e.what()).find("aliases are expanded"), std::string::npos) << e.what();
    EXPECT_FALSE(e.remediation().empty());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
}

TEST_F(ConfigLoader, AliasesWithinTheBudgetStillWork) {
  sources_.files = {write("ok.yaml",
                          "build: &b {jobs: 3}\n"
                          "profiles:\n  ci: {build: *b}\n")};
  const Config c = load_config(sources_);
  EXPECT_EQ(c.build.jobs, 3);
}

TEST_F(ConfigLoader, AConfigFileOverTheSizeCapIsRefusedWithoutReadingItAll) {
  const fs::path big = dir_ / "big.yaml";
  {
    std::ofstream out(big);
    out << "# padding\n";
    const std::string line(1023, '#');
    for (int i = 0; i < 5 * 1024; ++i) out << line << "\n";  // 5 MiB of comments
  }
  sources_.files = {big};
  try {
    load_config(sources_);
    FAIL() << "a 5 MiB config loaded";
  } catch (const ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("larger than 4 MiB"), std::string::npos) << e.what();
    EXPECT_EQ(e.context_value("file"), big.string());
  }
}

TEST_F(ConfigLoader, ARelativePluginSearchPathIsRefusedAtItsLine) {
  for (const std::string entry : {"plugins", "./plugins", "../x/plugins"}) {
    sources_.files = {write("rel.yaml", "plugins:\n  search_paths: [/abs, " + entry + "]\n")};
    try {
      load_config(sources_);
      FAIL() << entry << " accepted";
    } catch (const ConfigurationError& e) {
      EXPECT_EQ(e.context_value("file"), (dir_ / "rel.yaml").string() + ":2:24") << e.what();
      EXPECT_EQ(e.context_value("key"), "plugins.search_paths[1]");
      EXPECT_NE(std::string(e.what()).find("is relative"), std::string::npos) << e.what();
    }
  }
  sources_.files = {};
  sources_.environment["SLURM_FACTORY_PLUGIN_PATH"] = "/abs:rel/dir";
  try {
    load_config(sources_);
    FAIL() << "a relative $SLURM_FACTORY_PLUGIN_PATH entry accepted";
  } catch (const ConfigurationError& e) {
    EXPECT_EQ(e.context_value("file"), "env SLURM_FACTORY_PLUGIN_PATH");
  }
}

// The real CLI on the alias bomb, measured from outside: a config error (exit 3) in under a second
// and under 100 MB of resident memory (today: 19 s and 3.3 GB).
TEST_F(ConfigLoader, TheCliRefusesTheAliasBombQuicklyAndSmall) {
  const fs::path bomb = write("bomb.yaml", kBillionLaughs);
  const std::string binary = std::string(SF_TEST_BINARY_DIR) + "/bin/slurm-factory";
  ASSERT_TRUE(fs::exists(binary)) << binary;
  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    const std::string home = (dir_ / "home").string();
    ::setenv("HOME", home.c_str(), 1);
    ::execl(binary.c_str(), binary.c_str(), "--config", bomb.c_str(), "config", "show",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ASSERT_EQ(::wait4(pid, &status, 0, &usage), pid);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << "expected a configuration error";
  EXPECT_LT(elapsed, std::chrono::seconds(1));
  EXPECT_LT(usage.ru_maxrss, 100 * 1024) << "KiB of resident memory";
}

}  // namespace
}  // namespace sf
