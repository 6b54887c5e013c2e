// The slurm executor's command lines and its reading of Slurm's answers
// (plugins/executors/slurm/slurm_commands.hpp): what sbatch gets for every setting, settings that
// are refused before any command runs, and squeue / scontrol / sacct output as Slurm 22-24 print
// it, including lines that are not ours to trust.
#include "slurm_commands.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "slurm_factory/errors.hpp"

namespace sf::slurm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ExecutorJob job() {
  ExecutorJob j;
  j.name = "sf-nightly-24.11.5-trixie-cpu";
  j.cell = "24.11.5-trixie-cpu";
  j.script = "/srv/out/jobs/24.11.5-trixie-cpu.sh";
  j.log_file = "/srv/out/jobs/24.11.5-trixie-cpu.log";
  j.workdir = "/srv/out/jobs";
  return j;
}

TEST(SlurmCommands, SbatchWithoutSettingsNamesOnlyWhatThePipelineNeeds) {
  EXPECT_THAT(sbatch_argv(parse_settings(nlohmann::json::object()), job()),
              ElementsAre("sbatch", "--parsable", "--job-name=sf-nightly-24.11.5-trixie-cpu",
                          "--output=/srv/out/jobs/24.11.5-trixie-cpu.log", "--chdir=/srv/out/jobs",
                          "/srv/out/jobs/24.11.5-trixie-cpu.sh"));
}

TEST(SlurmCommands, EverySettingBecomesOneSbatchWord) {
  const auto s = parse_settings({{"partition", "build"},
                                 {"account", "hpc-admin"},
                                 {"qos", "normal"},
                                 {"time", "2:00:00"},
                                 {"cpus_per_cell", 8},
                                 {"mem", "16G"},
                                 {"sbatch_options", {"--constraint=docker", "--exclusive"}},
                                 {"bin_dir", "/opt/slurm/bin"}});
  auto j = job();
  j.after_ok = {"41", "40"};
  EXPECT_THAT(
      sbatch_argv(s, j),
      ElementsAre("/opt/slurm/bin/sbatch", "--parsable", "--job-name=sf-nightly-24.11.5-trixie-cpu",
                  "--output=/srv/out/jobs/24.11.5-trixie-cpu.log", "--chdir=/srv/out/jobs",
                  "--partition=build", "--account=hpc-admin", "--qos=normal", "--time=2:00:00",
                  "--cpus-per-task=8", "--mem=16G", "--dependency=afterok:41:40",
                  "--constraint=docker", "--exclusive", "/srv/out/jobs/24.11.5-trixie-cpu.sh"));
}

void expect_refused(const nlohmann::json& settings, const std::string& setting) {
  try {
    (void)parse_settings(settings);
    ADD_FAILURE() << "accepted " << settings.dump();
  } catch (const ConfigurationError& e) {
    EXPECT_EQ(e.context_value("setting"), setting) << e.what();
    EXPECT_FALSE(e.remediation().empty());
  }
}

TEST(SlurmCommands, ValuesThatAreNotWhatSlurmTakesAreRefusedNamingTheSetting) {
  expect_refused({{"partition", "build --uid=0"}}, "partition");
  expect_refused({{"partition", 3}}, "partition");
  expect_refused({{"account", "a;b"}}, "account");
  expect_refused({{"time", "two hours"}}, "time");
  expect_refused({{"cpus_per_cell", 0}}, "cpus_per_cell");
  expect_refused({{"cpus_per_cell", "8"}}, "cpus_per_cell");
  expect_refused({{"mem", "16 GB"}}, "mem");
  expect_refused({{"mem", "G"}}, "mem");
  expect_refused({{"sbatch_options", "--exclusive"}}, "sbatch_options");
  expect_refused({{"sbatch_options", {"exclusive"}}}, "sbatch_options");
  expect_refused({{"sbatch_options", {"--comment=a\nb"}}}, "sbatch_options");
  // What the executor sets itself cannot be overridden (the log, the dependencies, the script).
  expect_refused({{"sbatch_options", {"--output=/etc/passwd"}}}, "sbatch_options");
  expect_refused({{"sbatch_options", {"--dependency=singleton"}}}, "sbatch_options");
  expect_refused({{"sbatch_options", {"--wrap=id"}}}, "sbatch_options");
  expect_refused({{"bin_dir", "bin"}}, "bin_dir");
}

TEST(SlurmCommands, TheJobIdOfSbatchIsDigitsOnly) {
  EXPECT_EQ(parse_sbatch_id("42\n"), "42");
  EXPECT_EQ(parse_sbatch_id("42;cluster\n"), "42");
  EXPECT_FALSE(parse_sbatch_id(""));
  EXPECT_FALSE(parse_sbatch_id("Submitted batch job 42\n"));
  EXPECT_FALSE(parse_sbatch_id("42 && rm -rf /\n"));
  EXPECT_FALSE(parse_sbatch_id("-1\n"));
}

TEST(SlurmCommands, SqueueLinesGiveStateElapsedReasonAndNode) {
  const auto v = parse_squeue(
      "17|PENDING|0:00|Dependency|\n"
      "18|RUNNING|1:02:03|None|node01\n"
      "garbage line\n"
      "19;x|RUNNING|0:01|None|n\n"
      "20|COMPLETING|2-00:00:05|None|node02\n");
  ASSERT_EQ(v.size(), 3U);
  EXPECT_EQ(v[0].id, "17");
  EXPECT_EQ(v[0].state, JobState::kPending);
  EXPECT_EQ(v[0].reason, "Dependency");
  EXPECT_EQ(v[1].state, JobState::kRunning);
  EXPECT_DOUBLE_EQ(v[1].elapsed_seconds, 3723);
  EXPECT_EQ(v[1].node, "node01");
  EXPECT_EQ(v[1].reason, "");
  EXPECT_EQ(v[2].state, JobState::kRunning);
  EXPECT_DOUBLE_EQ(v[2].elapsed_seconds, 2 * 86400 + 5);
}

TEST(SlurmCommands, ScontrolGivesTheExitCodeOfAnEndedJob) {
  const auto s = parse_scontrol(
      "JobId=42 JobName=sf-two-x UserId=root(0) JobState=FAILED Reason=NonZeroExitCode "
      "Dependency=(null) ExitCode=7:0 RunTime=00:00:12 TimeLimit=UNLIMITED NodeList=n1\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->id, "42");
  EXPECT_EQ(s->state, JobState::kFailed);
  EXPECT_EQ(s->scheduler_state, "FAILED");
  EXPECT_EQ(s->exit_code, 7);
  EXPECT_EQ(s->signal, 0);
  EXPECT_DOUBLE_EQ(s->elapsed_seconds, 12);
  EXPECT_EQ(s->node, "n1");
  EXPECT_EQ(s->reason, "NonZeroExitCode");
  EXPECT_FALSE(parse_scontrol("slurm_load_jobs error: Invalid job id specified\n"));
}

TEST(SlurmCommands, SacctStatesOfEndedJobs) {
  const auto v = parse_sacct(
      "40|COMPLETED|0:0|31|n1|None\n"
      "41|CANCELLED by 0|0:15|3|n1|None\n"
      "42|TIMEOUT|0:0|3600|n2|TimeLimit\n"
      "43|NODE_FAIL|0:0|10|n3|None\n"
      "44|OUT_OF_MEMORY|0:125|9|n1|None\n"
      "45|FAILED|7:0|12|n1|NonZeroExitCode\n");
  ASSERT_EQ(v.size(), 6U);
  EXPECT_EQ(v[0].state, JobState::kCompleted);
  EXPECT_EQ(v[0].exit_code, 0);
  EXPECT_EQ(v[1].state, JobState::kCancelled);
  EXPECT_EQ(v[1].scheduler_state, "CANCELLED");
  EXPECT_EQ(v[1].signal, 15);
  EXPECT_EQ(v[2].state, JobState::kTimeout);
  EXPECT_EQ(v[2].reason, "TimeLimit");
  EXPECT_DOUBLE_EQ(v[2].elapsed_seconds, 3600);
  EXPECT_EQ(v[3].state, JobState::kNodeFail);
  EXPECT_EQ(v[4].state, JobState::kOutOfMemory);
  EXPECT_EQ(v[5].state, JobState::kFailed);
  EXPECT_EQ(v[5].exit_code, 7);
  for (const auto& s : v) EXPECT_TRUE(job_ended(s.state)) << s.id;
}

TEST(SlurmCommands, ElapsedTimesInEverySlurmForm) {
  EXPECT_DOUBLE_EQ(parse_elapsed("0:05"), 5);
  EXPECT_DOUBLE_EQ(parse_elapsed("10:05"), 605);
  EXPECT_DOUBLE_EQ(parse_elapsed("01:00:05"), 3605);
  EXPECT_DOUBLE_EQ(parse_elapsed("1-00:00:05"), 86405);
  EXPECT_DOUBLE_EQ(parse_elapsed("30"), 1800);  // a bare number is minutes
  EXPECT_LT(parse_elapsed("INVALID"), 0);
  EXPECT_EQ(state_of("PENDING"), JobState::kPending);
  EXPECT_EQ(state_of("PREEMPTED"), JobState::kNodeFail);
  EXPECT_EQ(state_of("WHATEVER"), JobState::kUnknown);
}

}  // namespace
}  // namespace sf::slurm
