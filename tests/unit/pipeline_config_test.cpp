// `pipelines:` read from a real config file: the values, the defaults, and errors that cite the
// file:line:col and key path of the offending value (schema errors and value errors alike).
#include "config/pipeline_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "../support/config_text.hpp"
#include "config/config_loader.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

using ::testing::HasSubstr;

class PipelineConfigTest : public ::testing::Test {
 protected:
  Config load(const std::string& yaml) { return text_.load(yaml); }
  ConfigurationError error_for(const std::string& yaml) { return text_.error_for(yaml); }
  std::string file() const { return text_.file(); }
  test::ConfigText text_{"sf-pipeline-config"};
};

TEST_F(PipelineConfigTest, ReadsEveryKey) {
  const Config c = load(
      "profiles:\n  ci: {build: {jobs: 2}}\n"
      "pipelines:\n"
      "  nightly:\n"
      "    matrix:\n"
      "      slurm_versions: [24.11, '25.11']\n"
      "      toolchains: [noble, rockylinux9]\n"
      "      gpu: [[], [cuda], cuda+rocm]\n"
      "    exclude:\n"
      "      - {toolchain: rockylinux9, gpu: [cuda]}\n"
      "      - {slurm_version: '25.11', gpu: []}\n"
      "    packagers: [tarball]\n"
      "    publish: cache\n"
      "    backend: podman\n"
      "    profile: ci\n"
      "    parallel: 3\n"
      "    keep_going: true\n"
      "    verify: yes\n"
      "    output: ~/artifacts\n"
      "  adhoc:\n"
      "    matrix: {slurm_versions: [24.11.5], toolchains: [trixie]}\n");
  const auto pipelines = parse_pipelines(c);
  ASSERT_EQ(pipelines.size(), 2U);
  EXPECT_EQ(pipelines[0].name, "adhoc");  // sorted by name
  const auto& a = pipelines[0];
  EXPECT_EQ(a.gpu_sets, (std::vector<std::vector<std::string>>{{}}));  // default: CPU only
  EXPECT_EQ(a.publish, PublishPolicy::kNone);
  EXPECT_EQ(a.parallel, 1);
  EXPECT_FALSE(a.keep_going);
  EXPECT_FALSE(a.output.has_value());
  const auto& n = find_pipeline(pipelines, "nightly");
  EXPECT_EQ(n.slurm_versions, (std::vector<std::string>{"24.11", "25.11"}));
  EXPECT_EQ(n.toolchains, (std::vector<std::string>{"noble", "rockylinux9"}));
  EXPECT_EQ(n.gpu_sets, (std::vector<std::vector<std::string>>{{}, {"cuda"}, {"cuda", "rocm"}}));
  ASSERT_EQ(n.exclude.size(), 2U);
  EXPECT_EQ(n.exclude[0].toolchain, "rockylinux9");
  EXPECT_FALSE(n.exclude[0].slurm_version.has_value());
  EXPECT_EQ(n.exclude[0].gpu, std::vector<std::string>{"cuda"});
  EXPECT_EQ(n.exclude[1].gpu, std::vector<std::string>{});
  EXPECT_THAT(n.exclude[0].origin, HasSubstr("site.yaml:"));
  EXPECT_EQ(n.publish, PublishPolicy::kCache);
  EXPECT_EQ(n.backend, "podman");
  EXPECT_EQ(n.profile, "ci");
  EXPECT_EQ(n.parallel, 3);
  EXPECT_TRUE(n.keep_going);
  EXPECT_TRUE(n.verify);
  EXPECT_EQ(n.output, text_.dir() / "artifacts");
  EXPECT_EQ(n.origin, file() + ":5:5");
}

TEST_F(PipelineConfigTest, UnknownPipelineListsTheConfiguredOnes) {
  const Config c =
      load("pipelines:\n  nightly: {matrix: {slurm_versions: [24.11], toolchains: [noble]}}\n");
  try {
    find_pipeline(parse_pipelines(c), "nighty");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nighty"));
    EXPECT_EQ(e.context_value("configured"), "nightly");
  }
}

TEST_F(PipelineConfigTest, SchemaErrorsCiteFileLineAndKey) {
  // A misspelt key: the schema, with a suggestion.
  auto e = error_for(
      "pipelines:\n  nightly:\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n"
      "    paralel: 2\n");
  EXPECT_EQ(e.context_value("file"), file() + ":4:5");
  EXPECT_EQ(e.context_value("key"), "pipelines.nightly.paralel");
  EXPECT_THAT(e.remediation(), HasSubstr("did you mean 'parallel'?"));
  // A missing matrix.
  e = error_for("pipelines:\n  nightly:\n    publish: none\n");
  EXPECT_EQ(e.context_value("key"), "pipelines.nightly.matrix");
  EXPECT_THAT(e.context_value("file"), HasSubstr("site.yaml:3:5"));
  // No toolchains in the matrix.
  e = error_for("pipelines:\n  nightly:\n    matrix:\n      slurm_versions: [24.11]\n");
  EXPECT_EQ(e.context_value("key"), "pipelines.nightly.matrix.toolchains");
  // parallel below 1.
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n"
      "    parallel: 0\n");
  EXPECT_EQ(e.context_value("file"), file() + ":4:15");
}

TEST_F(PipelineConfigTest, ValueErrorsCiteTheValue) {
  // A bad Slurm version: line 5, the item's column.
  auto e = error_for(
      "pipelines:\n"
      "  nightly:\n"
      "    matrix:\n"
      "      toolchains: [noble]\n"
      "      slurm_versions: [24.11, latest]\n");
  EXPECT_EQ(e.context_value("key"), "pipelines.nightly.matrix.slurm_versions[1]");
  EXPECT_EQ(e.context_value("file"), file() + ":5:31");
  EXPECT_THAT(e.what(), HasSubstr(file() + ":5:31: "));
  // An unknown GPU flavour.
  e = error_for(
      "pipelines:\n  nightly:\n    matrix:\n      slurm_versions: [24.11]\n"
      "      toolchains: [noble]\n      gpu: [[], [cuda, nvidia]]\n");
  EXPECT_EQ(e.context_value("key"), "pipelines.nightly.matrix.gpu[1]");
  EXPECT_EQ(e.context_value("file"), file() + ":6:17");
  EXPECT_THAT(e.what(), HasSubstr("nvidia"));
  // A bad publish policy.
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n"
      "    publish: everywhere\n");
  EXPECT_EQ(e.context_value("file"), file() + ":4:14");
  EXPECT_THAT(e.remediation(), HasSubstr("none, cache or all"));
  // A duplicate toolchain.
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble, noble]}\n");
  EXPECT_EQ(e.context_value("key"), "pipelines.n.matrix.toolchains[1]");
  EXPECT_THAT(e.what(), HasSubstr("twice"));
  // An exclude naming a toolchain the matrix does not list.
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n"
      "    exclude:\n      - {toolchain: jammy}\n");
  EXPECT_EQ(e.context_value("key"), "pipelines.n.exclude[0].toolchain");
  EXPECT_EQ(e.context_value("file"), file() + ":5:21");
  // An exclude that removes every cell.
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n"
      "    exclude: [{toolchain: noble}]\n");
  EXPECT_THAT(e.what(), HasSubstr("every cell"));
  // An exclude with no key.
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n"
      "    exclude: [{}]\n");
  EXPECT_EQ(e.context_value("key"), "pipelines.n.exclude[0]");
  // A packager that is no plain name.
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n"
      "    packagers: [tarball, \"../deb\"]\n");
  EXPECT_EQ(e.context_value("key"), "pipelines.n.packagers[1]");
  EXPECT_THAT(e.what(), HasSubstr("invalid packager '../deb'"));
  // A profile no file defines.
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n"
      "    profile: nowhere\n");
  EXPECT_EQ(e.context_value("file"), file() + ":4:14");
}

TEST_F(PipelineConfigTest, PackagersStartWithTheTarball) {
  const auto p = parse_pipelines(
      load("pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n"
           "    packagers: [deb]\n"));
  ASSERT_EQ(p.size(), 1U);
  EXPECT_EQ(p[0].packagers, (std::vector<std::string>{"tarball", "deb"}));
}

TEST_F(PipelineConfigTest, NoPipelinesIsFine) {
  EXPECT_TRUE(parse_pipelines(load("build: {jobs: 2}\n")).empty());
}

TEST(PipelineGpuSet, WordsAndLists) {
  EXPECT_EQ(parse_gpu_set(""), std::vector<std::string>{});
  EXPECT_EQ(parse_gpu_set("cpu"), std::vector<std::string>{});
  EXPECT_EQ(parse_gpu_set("none"), std::vector<std::string>{});
  EXPECT_EQ(parse_gpu_set("rocm+cuda"), (std::vector<std::string>{"cuda", "rocm"}));
  EXPECT_EQ(parse_gpu_set("cuda,oneapi"), (std::vector<std::string>{"cuda", "oneapi"}));
  EXPECT_THROW(parse_gpu_set("nvidia"), UsageError);
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// Values that become folder names (pipeline name, toolchain, arch) are refused at their line.
TEST_F(PipelineConfigTest, HostileNamesAreRefusedAtTheirLine) {
  struct Case {
    std::string yaml;
    std::string location;
    std::string key;
  };
  const std::vector<Case> cases = {
      {"pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble, ../../x]}\n",
       ":3:59", "pipelines.n.matrix.toolchains[1]"},
      {"pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: ['noble$(id)']}\n",
       ":3:52", "pipelines.n.matrix.toolchains[0]"},
      {"pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble], arch: "
       "'amd64/../../x'}\n",
       ":3:66", "pipelines.n.matrix.arch"},
      {"pipelines:\n  n:\n    matrix: {slurm_versions: ['24.11/../x'], toolchains: [noble]}\n",
       ":3:31", "pipelines.n.matrix.slurm_versions[0]"},
      {"pipelines:\n  '../evil':\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n",
       ":3:5", "pipelines.../evil"},
      {"pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [noble]}\n"
       "    backend: 'docker;id'\n",
       ":4:14", "pipelines.n.backend"},
  };
  for (const auto& c : cases) {
    const auto e = error_for(c.yaml);
    EXPECT_EQ(e.context_value("file"), file() + c.location) << e.what();
    EXPECT_EQ(e.context_value("key"), c.key) << e.what();
  }
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// Issue 17: the arches axis (and the one-arch shorthand), errors at their line.
TEST_F(PipelineConfigTest, ArchesAreAMatrixAxisWithTheHostsAsDefault) {
  const auto both = parse_pipelines(
      load("pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [trixie], "
           "arches: [amd64, arm64]}\n    exclude:\n      - {arch: arm64, toolchain: trixie}\n"));
  ASSERT_EQ(both.size(), 1U);
  EXPECT_EQ(both[0].arches, (std::vector<std::string>{"amd64", "arm64"}));
  ASSERT_EQ(both[0].exclude.size(), 1U);
  EXPECT_EQ(both[0].exclude[0].arch, std::optional<std::string>("arm64"));
  const auto one = parse_pipelines(
      load("pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [trixie], "
           "arch: arm64}\n"));
  EXPECT_EQ(one[0].arches, std::vector<std::string>{"arm64"});
  const auto plain = parse_pipelines(
      load("pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [trixie]}\n"));
  EXPECT_EQ(plain[0].arches, std::vector<std::string>{host_arch()});
}

TEST_F(PipelineConfigTest, ABadArchesListIsRefusedAtItsLine) {
  auto e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [trixie], "
      "arches: [amd64, sparc]}\n");
  EXPECT_EQ(e.context_value("key"), "pipelines.n.matrix.arches[1]") << e.what();
  EXPECT_THAT(e.what(), HasSubstr("invalid arch 'sparc'"));
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [trixie], "
      "arches: [arm64, arm64]}\n");
  EXPECT_THAT(e.what(), HasSubstr("listed twice"));
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [trixie], "
      "arch: amd64, arches: [arm64]}\n");
  EXPECT_THAT(e.what(), HasSubstr("sets both arch and arches"));
  e = error_for(
      "pipelines:\n  n:\n    matrix: {slurm_versions: [24.11], toolchains: [trixie], "
      "arches: [amd64]}\n    exclude:\n      - {arch: arm64}\n");
  EXPECT_EQ(e.context_value("key"), "pipelines.n.exclude[0].arch") << e.what();
}

}  // namespace
}  // namespace sf
