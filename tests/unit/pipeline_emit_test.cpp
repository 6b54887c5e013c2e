// The CI matrices parse back (JSON, YAML) to one entry per cell with the cell's values.
#include "pipeline/pipeline_emit.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

std::vector<PipelineCell> cells() {
  PipelineDefinition p;
  p.slurm_versions = {"24.10", "25.11"};  // 24.10: a version a YAML reader takes for a number
  p.toolchains = {"noble"};
  p.gpu_sets = {{}, {"cuda", "rocm"}};
  return expand_matrix(p);
}

TEST(PipelineEmit, GithubMatrixIsJsonWithOneIncludePerCell) {
  const auto text = emit_cells("github-matrix", cells());
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line: fits $GITHUB_OUTPUT
  const auto j = nlohmann::json::parse(text);
  ASSERT_EQ(j["include"].size(), 4U);
  EXPECT_EQ(j["include"][0]["cell"], "24.10-noble-cpu");
  EXPECT_EQ(j["include"][0]["slurm_version"], "24.10");
  EXPECT_EQ(j["include"][0]["toolchain"], "noble");
  EXPECT_EQ(j["include"][0]["gpu"], "cpu");
  EXPECT_EQ(j["include"][1]["gpu"], "cuda+rocm");
  EXPECT_EQ(j["include"][3]["cell"], "25.11-noble-cuda+rocm");
  EXPECT_EQ(j["include"][3]["arch"], "amd64");
}

TEST(PipelineEmit, GitlabParallelMatrixParsesBackWithStringValues) {
  const auto y = YAML::Load(emit_cells("gitlab", cells()));
  const auto m = y["parallel"]["matrix"];
  ASSERT_TRUE(m.IsSequence());
  ASSERT_EQ(m.size(), 4U);
  EXPECT_EQ(m[0]["SF_CELL"].as<std::string>(), "24.10-noble-cpu");
  EXPECT_EQ(m[0]["SF_SLURM_VERSION"].as<std::string>(), "24.10");  // not 24.1
  EXPECT_EQ(m[0]["SF_SLURM_VERSION"].Tag(), "!");                  // quoted
  EXPECT_EQ(m[1]["SF_GPU"].as<std::string>(), "cuda+rocm");
  EXPECT_EQ(m[3]["SF_TOOLCHAIN"].as<std::string>(), "noble");
  EXPECT_EQ(m[3]["SF_ARCH"].as<std::string>(), "amd64");
}

TEST(PipelineEmit, UnknownFormatIsAUsageError) {
  try {
    emit_cells("jenkins", cells());
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.context_value("valid formats"), "github-matrix, gitlab");
  }
}

}  // namespace
}  // namespace sf
