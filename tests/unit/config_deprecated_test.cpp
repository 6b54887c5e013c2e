// Deprecated config keys (config_deprecated.hpp): `debian_mirror` moved to
// `toolchain_families.debian.mirror`. The old key still works, as the new key written at the same
// place, with a warning naming its file:line and the key to write; the new key wins when a file
// sets both; `config show` shows only the new key.
#include "config/config_deprecated.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "config/config_loader.hpp"
#include "config/config_render.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"

namespace sf {
namespace {

namespace fs = std::filesystem;

class ConfigDeprecated : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sf-config-deprecated-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    sources_.read_system_file = false;
    sources_.read_user_file = false;
    sources_.environment = {{"HOME", dir_.string()}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    sources_.files.push_back(dir_ / name);
    return (dir_ / name).string();
  }

  fs::path dir_;
  ConfigSources sources_;
};

TEST_F(ConfigDeprecated, OldKeyStillSetsTheMirrorAndWarnsWithFileLineAndTheNewKey) {
  const std::string f =
      write("old.yaml", "build: {jobs: 2}\ndebian_mirror: http://old.example/debian\n");
  const Config c = load_config(sources_);
  EXPECT_EQ(c.toolchain_families.at("debian").mirror, "http://old.example/debian");
  ASSERT_EQ(c.warnings.size(), 1U);
  EXPECT_EQ(c.warnings[0], f + ":2:1: 'debian_mirror' is deprecated; write 'toolchain_families: "
                               "{debian: {mirror: ...}}' instead");
  EXPECT_EQ(c.origin_of("toolchain_families.debian.mirror"), f + ":2:16");
  EXPECT_FALSE(c.tree["debian_mirror"].IsDefined());
  EXPECT_EQ(c.origins.count("debian_mirror"), 0U);

  // `config show`: the new key, with the old key's place as its origin; no old key.
  const auto j = config::render_config_json(c);
  EXPECT_FALSE(j["values"].contains("debian_mirror"));
  EXPECT_EQ(j["values"]["toolchain_families"]["debian"]["mirror"], "http://old.example/debian");
  EXPECT_EQ(j["origins"]["toolchain_families.debian.mirror"], f + ":2:16");
  const std::string text = config::render_config_text(c);
  EXPECT_NE(text.find("toolchain_families.debian.mirror = http://old.example/debian"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("debian_mirror"), std::string::npos) << text;
}

TEST_F(ConfigDeprecated, NewKeySetsTheMirrorWithoutAWarning) {
  const std::string f =
      write("new.yaml", "toolchain_families:\n  debian:\n    mirror: http://new.example/debian\n");
  const Config c = load_config(sources_);
  EXPECT_EQ(c.toolchain_families.at("debian").mirror, "http://new.example/debian");
  EXPECT_EQ(c.origin_of("toolchain_families.debian.mirror"), f + ":3:13");
  EXPECT_TRUE(c.warnings.empty());
}

TEST_F(ConfigDeprecated, BothKeysInOneFileTheNewOneWinsAndTheWarningSaysSo) {
  const std::string f =
      write("both.yaml",
            "debian_mirror: http://old.example/debian\n"
            "toolchain_families: {debian: {mirror: http://new.example/debian}}\n");
  const Config c = load_config(sources_);
  EXPECT_EQ(c.toolchain_families.at("debian").mirror, "http://new.example/debian");
  ASSERT_EQ(c.warnings.size(), 1U);
  EXPECT_EQ(c.warnings[0], f +
                               ":1:1: 'debian_mirror' is deprecated and ignored here: "
                               "'toolchain_families.debian.mirror' (" +
                               f + ":2:39) is set too and wins; remove 'debian_mirror'");
  EXPECT_EQ(c.origin_of("toolchain_families.debian.mirror"), f + ":2:39");
  EXPECT_FALSE(c.tree["debian_mirror"].IsDefined());
}

// Layering is kept: the old key of a later file overrides the new key of an earlier one (and of
// the embedded default), and the new key of a later file overrides the old key of an earlier one.
TEST_F(ConfigDeprecated, LaterLayersWinWhicheverKeyTheyWrite) {
  write("a.yaml", "toolchain_families: {debian: {mirror: http://a.example/debian}}\n");
  const std::string b = write("b.yaml", "debian_mirror: http://b.example/debian\n");
  Config c = load_config(sources_);
  EXPECT_EQ(c.toolchain_families.at("debian").mirror, "http://b.example/debian");
  EXPECT_EQ(c.origin_of("toolchain_families.debian.mirror"), b + ":1:16");
  EXPECT_EQ(c.warnings.size(), 1U);

  write("c.yaml", "toolchain_families: {debian: {mirror: http://c.example/debian}}\n");
  c = load_config(sources_);
  EXPECT_EQ(c.toolchain_families.at("debian").mirror, "http://c.example/debian");
}

// Another family's entry is kept when the old key sets debian's.
TEST_F(ConfigDeprecated, OldKeyKeepsTheOtherFamiliesEntries) {
  write("f.yaml",
        "toolchain_families: {ubuntu: {mirror: http://u.example/ubuntu}}\n"
        "debian_mirror: http://old.example/debian\n");
  const Config c = load_config(sources_);
  EXPECT_EQ(c.toolchain_families.at("ubuntu").mirror, "http://u.example/ubuntu");
  EXPECT_EQ(c.toolchain_families.at("debian").mirror, "http://old.example/debian");
}

TEST_F(ConfigDeprecated, AProfileWithTheOldKeyWarnsWhenSelected) {
  const std::string f =
      write("p.yaml", "profiles:\n  ci:\n    debian_mirror: http://ci.example/d\n");
  EXPECT_TRUE(load_config(sources_).warnings.empty());  // not selected: nothing moved
  sources_.profile = "ci";
  const Config c = load_config(sources_);
  EXPECT_EQ(c.toolchain_families.at("debian").mirror, "http://ci.example/d");
  ASSERT_EQ(c.warnings.size(), 1U);
  EXPECT_EQ(c.warnings[0].rfind(f + ":3:5 (profile ci): 'debian_mirror' is deprecated", 0), 0U)
      << c.warnings[0];
}

// The warning reaches the log (stderr in the CLI; never stdout, so --json output stays clean).
TEST_F(ConfigDeprecated, TheWarningIsLogged) {
  write("old.yaml", "debian_mirror: http://old.example/debian\n");
  std::ostringstream captured;
  const auto previous = log_ptr();
  set_log(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  const Config c = load_config(sources_);
  set_log(previous);
  ASSERT_EQ(c.warnings.size(), 1U);
  EXPECT_NE(captured.str().find(c.warnings[0]), std::string::npos) << captured.str();
}

TEST_F(ConfigDeprecated, AFlagCannotSetTheOldKey) {
  Config c = load_config(sources_);
  try {
    apply_override(c, "debian_mirror", "http://x.example/debian", "--test");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(e.remediation().find("toolchain_families.debian.mirror"), std::string::npos);
  }
  apply_override(c, "toolchain_families", "{debian: {mirror: http://x.example/debian}}", "--test");
  EXPECT_EQ(c.toolchain_families.at("debian").mirror, "http://x.example/debian");
}

TEST(ConfigDeprecatedKeys, FlowYamlOfAKeyPath) {
  EXPECT_EQ(config::flow_yaml_of("toolchain_families.debian.mirror"),
            "toolchain_families: {debian: {mirror: ...}}");
  EXPECT_EQ(config::flow_yaml_of("cache_dir"), "cache_dir: ...");
}

}  // namespace
}  // namespace sf
