// A pipeline's `executor:` read from a real config file (core/src/config/pipeline_executor.hpp):
// a word or a mapping, the core's own keys, the plugin's keys passed on as JSON and checked
// against what the plugin declares, and errors that cite file:line:col.
#include "config/pipeline_executor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "../support/config_text.hpp"
#include "config/config_loader.hpp"
#include "config/pipeline_config.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

using ::testing::HasSubstr;

class PipelineExecutorTest : public ::testing::Test {
 protected:
  PipelineDefinition pipeline(const std::string& executor_yaml) {
    config_ = load(
        "pipelines:\n"
        "  nightly:\n"
        "    matrix: {slurm_versions: ['24.11'], toolchains: [noble]}\n" +
        executor_yaml);
    return parse_pipelines(config_).front();
  }
  ConfigurationError error_for(const std::string& executor_yaml) {
    try {
      (void)pipeline(executor_yaml);
    } catch (const ConfigurationError& e) {
      return e;
    }
    ADD_FAILURE() << "no error for:\n" << executor_yaml;
    return ConfigurationError("none");
  }
  Config load(const std::string& yaml) { return text_.load(yaml); }
  std::string file() const { return text_.file(); }
  test::ConfigText text_{"sf-pipeline-executor"};
  Config config_;
};

TEST_F(PipelineExecutorTest, TheDefaultIsThisProcess) {
  const auto p = pipeline("");
  EXPECT_EQ(p.executor.type, "local");
  EXPECT_TRUE(p.executor.settings.empty());
  EXPECT_FALSE(p.executor.shared_cache_dir);
}

TEST_F(PipelineExecutorTest, AWordNamesTheExecutor) {
  const auto p = pipeline("    executor: slurm\n");
  EXPECT_EQ(p.executor.type, "slurm");
  EXPECT_EQ(p.executor.key_path, "pipelines.nightly.executor");
}

TEST_F(PipelineExecutorTest, AMappingSplitsTheCoresKeysFromThePlugins) {
  const auto p = pipeline(
      "    executor:\n"
      "      type: slurm\n"
      "      partition: build\n"
      "      cpus_per_cell: 8\n"
      "      sbatch_options: ['--constraint=docker']\n"
      "      shared_cache_dir: true\n"
      "      command: /opt/sf/bin/slurm-factory\n"
      "      poll_seconds: 0.5\n");
  EXPECT_EQ(p.executor.type, "slurm");
  EXPECT_TRUE(p.executor.shared_cache_dir);
  EXPECT_EQ(p.executor.command, "/opt/sf/bin/slurm-factory");
  EXPECT_DOUBLE_EQ(p.executor.poll_seconds, 0.5);
  EXPECT_EQ(p.executor.settings, (nlohmann::json{{"partition", "build"},
                                                 {"cpus_per_cell", 8},
                                                 {"sbatch_options", {"--constraint=docker"}}}));
}

TEST_F(PipelineExecutorTest, BadValuesAreRefusedAtTheirLine) {
  auto e = error_for("    executor: '../slurm'\n");
  EXPECT_THAT(e.what(), HasSubstr(file() + ":4:"));
  EXPECT_THAT(e.what(), HasSubstr("invalid executor"));
  e = error_for("    executor: {partition: build}\n");
  EXPECT_THAT(e.what(), HasSubstr("no 'type'"));
  e = error_for("    executor:\n      type: slurm\n      command: slurm-factory\n");
  EXPECT_THAT(e.what(), HasSubstr(file() + ":6:"));
  EXPECT_THAT(e.what(), HasSubstr("absolute path"));
  e = error_for("    executor:\n      type: slurm\n      poll_seconds: 0\n");
  EXPECT_THAT(e.what(), HasSubstr("poll_seconds"));
  e = error_for("    executor:\n      type: slurm\n      shared_cache_dir: maybe\n");
  EXPECT_THAT(e.what(), HasSubstr("true or false"));
  // A secret in a config is refused, as in every free-form section.
  e = error_for("    executor:\n      type: slurm\n      secret_access_key: abc\n");
  EXPECT_THAT(e.what(), HasSubstr(file() + ":6:"));
  e = error_for("    executor:\n      type: local\n      partition: build\n");
  EXPECT_THAT(e.what(), HasSubstr("local executor takes no setting 'partition'"));
}

TEST_F(PipelineExecutorTest, APluginsUnknownKeyIsRefusedWithADidYouMean) {
  const auto p = pipeline("    executor:\n      type: slurm\n      partiton: build\n");
  try {
    check_executor_settings(config_, p.executor, {"partition", "account"});
    ADD_FAILURE() << "accepted partiton";
  } catch (const ConfigurationError& e) {
    EXPECT_THAT(e.what(), HasSubstr(file() + ":6:"));
    EXPECT_THAT(e.what(), HasSubstr("unknown key 'partiton'"));
    EXPECT_THAT(e.remediation(), HasSubstr("did you mean 'partition'"));
  }
  const auto ok = pipeline("    executor:\n      type: slurm\n      account: hpc\n");
  EXPECT_NO_THROW(check_executor_settings(config_, ok.executor, {"partition", "account"}));
}

}  // namespace
}  // namespace sf
