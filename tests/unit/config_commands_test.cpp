// `slurm-factory config show` end to end through sf::cli::run, with a private HOME so no config of
// the machine's user leaks in.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.hpp"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

Result sf_run(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  Result r;
  r.code = sf::cli::run(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

class ConfigCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sf-config-commands-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    ::setenv("HOME", dir_.c_str(), 1);
    for (const char* v : {"XDG_CONFIG_HOME", "SLURM_FACTORY_CACHE_DIR", "SLURM_FACTORY_PLUGIN_PATH",
                          "SLURM_FACTORY_PROFILE"}) {
      ::unsetenv(v);
    }
  }
  void TearDown() override {
    ::unsetenv("SLURM_FACTORY_PROFILE");
    fs::remove_all(dir_);
  }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  fs::path dir_;
};

TEST_F(ConfigCommands, ShowPrintsEachValueWithItsOrigin) {
  const std::string file = write("site.yaml",
                                 "build:\n  jobs: 7\n"
                                 "signing:\n  key_id: ABCDEF0123456789\n"
                                 "  passphrase_env: SF_GPG_PASSPHRASE\n");
  const auto r = sf_run({"config", "show", "--config", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("build.jobs = 7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# " + file + ":2:9\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("signing.passphrase_env = SF_GPG_PASSPHRASE"), std::string::npos);
  EXPECT_NE(r.out.find("cache_dir = " + (dir_ / ".slurm-factory").string()), std::string::npos);
  EXPECT_NE(r.out.find("# default\n"), std::string::npos);
}

TEST_F(ConfigCommands, ShowJsonIsMachineReadableWithOrigins) {
  const std::string user = write(".config/slurm-factory/config.yaml", "backend: podman\n");
  const std::string file = write("site.yaml", "build: {memory: 16g}\n");
  ::setenv("SLURM_FACTORY_CACHE_DIR", (dir_ / "cache").c_str(), 1);
  const auto r = sf_run({"--json", "config", "show", "--config=" + file});
  ::unsetenv("SLURM_FACTORY_CACHE_DIR");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["values"]["backend"], "podman");
  EXPECT_EQ(j["origins"]["backend"], user + ":1:10");
  EXPECT_EQ(j["values"]["build"]["memory"], "16g");
  EXPECT_EQ(j["origins"]["build.memory"], file + ":1:17");
  EXPECT_EQ(j["values"]["cache_dir"], (dir_ / "cache").string());
  EXPECT_EQ(j["origins"]["cache_dir"], "env SLURM_FACTORY_CACHE_DIR");
  EXPECT_EQ(j["values"]["cache"]["layers"][0]["url"], "file://" + (dir_ / "cache/cache").string());
}

TEST_F(ConfigCommands, ProfileFromFlagOrEnvironment) {
  const std::string file =
      write("p.yaml", "profiles:\n  ci: {build: {jobs: 2}}\n  laptop: {build: {jobs: 1}}\n");
  auto r = sf_run({"config", "show", "--json", "--config", file, "--profile", "ci"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["profile"], "ci");
  EXPECT_EQ(j["profiles"], nlohmann::json::parse(R"(["ci", "laptop"])"));
  EXPECT_EQ(j["values"]["build"]["jobs"], 2);
  EXPECT_EQ(j["origins"]["build.jobs"], file + ":2:22 (profile ci)");

  ::setenv("SLURM_FACTORY_PROFILE", "laptop", 1);
  r = sf_run({"config", "show", "--json", "--config", file});
  ASSERT_EQ(r.code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["values"]["build"]["jobs"], 1);

  r = sf_run({"config", "show", "--config", file});
  EXPECT_NE(r.out.find("(profile laptop, selected by env SLURM_FACTORY_PROFILE)"),
            std::string::npos)
      << r.out;

  ::setenv("SLURM_FACTORY_PROFILE", "nightly", 1);
  r = sf_run({"config", "show", "--config", file});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("unknown profile 'nightly'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ci, laptop"), std::string::npos) << r.err;
}

TEST_F(ConfigCommands, TypoFailsWithFileLineColumnAndKeyPath) {
  const std::string file = write("typo.yaml",
                                 "cache:\n"
                                 "  layers:\n"
                                 "    - name: local\n"
                                 "      type: local\n"
                                 "      url: file:///tmp/c\n"
                                 "    - name: s3\n"
                                 "      tyep: s3\n"
                                 "      url: s3://bucket/p\n");
  const auto r = sf_run({"config", "show", "--config", file});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("configuration error: " + file + ":7:7: unknown key 'tyep'"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("key: cache.layers[1].tyep"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("did you mean 'type'?"), std::string::npos) << r.err;
}

TEST_F(ConfigCommands, LiteralPassphraseIsRefusedWithoutEchoingIt) {
  const std::string file = write("secret.yaml", "signing:\n  passphrase: hunter2-is-secret\n");
  const auto r = sf_run({"config", "show", "--json", "--config", file});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err.find("hunter2-is-secret"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("hunter2-is-secret"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("passphrase_env"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file + ":2:3"), std::string::npos) << r.err;
}

TEST_F(ConfigCommands, MissingConfigFileIsAnError) {
  const auto r = sf_run({"config", "show", "--config", (dir_ / "nope.yaml").string()});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST_F(ConfigCommands, HelpAndBadOptions) {
  auto r = sf_run({"config", "show", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Usage: slurm-factory config show"), std::string::npos) << r.out;
  r = sf_run({"config", "show", "--bogus"});
  EXPECT_EQ(r.code, 2);
  r = sf_run({"config"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("config show"), std::string::npos) << r.err;
}

}  // namespace
