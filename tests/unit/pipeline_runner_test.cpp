// The runner's reporting: the plan table, the summary table, the JSON report and the exit code
// (running cells needs docker: tests/integration/pipeline_test.cpp).
#include "pipeline/pipeline_runner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

using ::testing::HasSubstr;

PipelineCell cell(const std::string& v) { return {v + "-trixie-cpu", v, "trixie", {}, "amd64"}; }

TEST(PipelineRunner, CellRequestPutsEachCellInItsOwnFolder) {
  PipelineDefinition p;
  p.publish = PublishPolicy::kCache;
  PipelineCell c{"24.11-noble-cuda+rocm", "24.11", "noble", {"cuda", "rocm"}, "amd64"};
  const BuildRequest r = cell_request(p, c, "/out", "podman", true);
  EXPECT_EQ(r.slurm_version, "24.11");
  EXPECT_EQ(r.toolchain, "noble");
  EXPECT_EQ(r.gpu, (std::vector<std::string>{"cuda", "rocm"}));
  EXPECT_EQ(r.publish, PublishPolicy::kCache);
  EXPECT_EQ(r.backend, "podman");
  EXPECT_TRUE(r.verify);
  EXPECT_EQ(r.output, std::filesystem::path("/out/24.11-noble-cuda+rocm"));
  EXPECT_EQ(r.packagers, std::vector<std::string>{"tarball"});
  p.packagers = {"tarball", "deb", "rpm"};
  EXPECT_EQ(cell_request(p, c, "/out", "", false).packagers, p.packagers);
}

TEST(PipelineRunner, PlanTableShowsSharedWorkAndPlanErrors) {
  PipelinePlan plan;
  plan.pipeline.name = "nightly";
  CellPlan a;
  a.cell = cell("24.11.5");
  a.slurm_version = "24.11.5";
  a.to_build = {"fakea", "slurm"};
  a.cached = 3;
  CellPlan b = a;
  b.cell = cell("22.05.8");
  b.slurm_version = "22.05.8";
  b.shared = 1;
  CellPlan c;
  c.cell = cell("21.08");
  c.error = "no recipe version of slurm matches 21.08\nmore";
  plan.cells = {a, b, c};
  plan.distinct_builds = 3;
  const std::string t = format_plan_table(plan);
  EXPECT_THAT(t, HasSubstr("CELL"));
  EXPECT_THAT(t, HasSubstr("ESTIMATED WORK"));
  EXPECT_THAT(t, HasSubstr("2 new builds"));
  EXPECT_THAT(t, HasSubstr("1 new build, 1 shared with an earlier cell"));
  EXPECT_THAT(t, HasSubstr("fakea slurm"));
  EXPECT_THAT(t, HasSubstr("cannot plan: no recipe version of slurm matches 21.08"));
  EXPECT_THAT(t, ::testing::Not(HasSubstr("more")));
  EXPECT_THAT(t, HasSubstr("3 cell(s), 3 distinct package build(s)"));
  const auto j = plan_to_json(plan);
  EXPECT_EQ(j["cells"][1]["shared"], 1);
  EXPECT_EQ(j["cells"][2]["error"], c.error);
}

TEST(PipelineRunner, ReportExitCodeIsTheFirstFailure) {
  PipelineRunReport r;
  r.pipeline = "nightly";
  CellResult ok;
  ok.cell = cell("24.11.5");
  ok.result = "ok";
  ok.built = 2;
  ok.hits = {{"local", 3}};
  ok.reused = 1;
  ok.artifact = "/out/a.tar.zst";
  r.cells = {ok};
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.exit_code(), 0);

  CellResult bad;
  bad.cell = cell("23.11.1");
  bad.result = "failed";
  bad.stage = "build";
  bad.error = "slurm 23.11.1: the build step failed (exit 2)\n  tail";
  bad.error_kind = "build error";
  bad.exit_code = static_cast<int>(ExitCode::kBuild);
  bad.error_context = {{"package", "slurm"}};
  CellResult skipped;
  skipped.cell = cell("22.05.8");
  r.cells = {bad, ok, skipped};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code(), 7);

  const auto j = nlohmann::json::parse(r.to_json().dump());
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["exit_code"], 7);
  EXPECT_EQ(j["succeeded"], 1);
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["skipped"], 1);
  EXPECT_EQ(j["cells"][0]["error"]["stage"], "build");
  EXPECT_EQ(j["cells"][0]["error"]["context"]["package"], "slurm");
  EXPECT_EQ(j["cells"][1]["artifact"], "/out/a.tar.zst");
  EXPECT_EQ(j["cells"][1]["reused_from_other_cells"], 1);
  EXPECT_FALSE(j["cells"][2].contains("error"));

  const std::string t = format_summary_table(r);
  EXPECT_THAT(t, HasSubstr("23.11.1-trixie-cpu"));
  EXPECT_THAT(t, HasSubstr("build: slurm 23.11.1: the build step failed (exit 2)"));
  EXPECT_THAT(t, HasSubstr("local 3 (1 from other cells)"));
  EXPECT_THAT(t, HasSubstr("not run"));
  EXPECT_THAT(t, HasSubstr("pipeline nightly: 1 ok, 1 failed, 1 skipped"));
}

TEST(PipelineRunner, AFailedCellWithoutAnErrorCodeStillFails) {
  PipelineRunReport r;
  CellResult bad;
  bad.cell = cell("24.11.5");
  bad.result = "failed";
  r.cells = {bad};
  EXPECT_EQ(r.exit_code(), 1);
}

}  // namespace
}  // namespace sf
