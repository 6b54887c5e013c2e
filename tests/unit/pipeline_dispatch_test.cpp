// The logic of running a pipeline's cells as jobs (core/src/pipeline/pipeline_dispatch.hpp) that
// needs no scheduler: which cell waits for which, the job script, and the reading of a report
// file a job wrote, which comes from a build node and is checked field by field. The real run,
// on a real Slurm cluster, is tests/e2e/slurm-executor.sh.
#include "pipeline/pipeline_dispatch.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sf {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

CellPlan cell(const std::string& id, std::vector<std::string> hashes) {
  CellPlan c;
  c.cell.id = id;
  c.to_build_hashes = std::move(hashes);
  return c;
}

TEST(CellDependencies, ACellWaitsForTheEarlierCellsThatBuildWhatItNeeds) {
  PipelinePlan plan;
  plan.cells = {cell("a", {"fakea", "fakeb", "slurm1"}), cell("b", {"fakea", "fakeb", "slurm2"}),
                cell("c", {"other"}), cell("d", {"other", "fakeb", "slurm4"})};
  const auto deps = cell_dependencies(plan, false);
  ASSERT_EQ(deps.size(), 4U);
  EXPECT_THAT(deps[0], IsEmpty());
  EXPECT_THAT(deps[1], ElementsAre(0U));
  EXPECT_THAT(deps[2], IsEmpty());
  EXPECT_THAT(deps[3], ElementsAre(0U, 2U));
  // With a cache_dir every node sees, the build lock orders them: no job waits.
  for (const auto& d : cell_dependencies(plan, true)) EXPECT_THAT(d, IsEmpty());
}

TEST(CellDependencies, ACellThatCannotBePlannedBuildsNothingForTheOthers) {
  PipelinePlan plan;
  plan.cells = {cell("a", {"fakea"}), cell("b", {"fakea"})};
  plan.cells[0].error = "no such version";
  const auto deps = cell_dependencies(plan, false);
  EXPECT_THAT(deps[0], IsEmpty());
  EXPECT_THAT(deps[1], IsEmpty());
}

TEST(CellJobScript, EveryWordIsQuotedAndTheCommentStaysOneLine) {
  const std::string s = cell_job_script(
      {"/opt/sf bin/slurm-factory", "--config", "/etc/x'; rm -rf /;'.yaml", "run", "$(id)"},
      "cell x\nrm -rf /");
  EXPECT_EQ(s,
            "#!/bin/sh\n# cell x rm -rf /\nexec '/opt/sf bin/slurm-factory' --config "
            "'/etc/x'\\''; rm -rf /;'\\''.yaml' run '$(id)'\n");
}

PipelineCell the_cell() {
  PipelineCell c;
  c.id = "24.11.5-trixie-cpu";
  c.slurm_version = "24.11.5";
  c.toolchain = "trixie";
  return c;
}

const std::filesystem::path kOut = "/srv/out/24.11.5-trixie-cpu";

std::string report_with(const nlohmann::json& cell_json) {
  return nlohmann::json{{"pipeline", "two"}, {"cells", {cell_json}}}.dump();
}

nlohmann::json ok_cell() {
  return {{"cell", "24.11.5-trixie-cpu"},
          {"result", "ok"},
          {"seconds", 12.5},
          {"built", 3},
          {"cached", 2},
          {"reused_from_other_cells", 1},
          {"hits", {{"local", 2}, {"bad layer/..", 9}, {"s3", "x"}}},
          {"existed", false},
          {"artifact", (kOut / "trixie/24.11.5/amd64/slurm.tar.zst").string()}};
}

TEST(CellResultFromReport, AValidReportGivesTheCellsResult) {
  const CellResult r = cell_result_from_report(report_with(ok_cell()), the_cell(), kOut);
  EXPECT_EQ(r.result, "ok");
  EXPECT_EQ(r.built, 3U);
  EXPECT_EQ(r.cached, 2U);
  EXPECT_EQ(r.reused, 1U);
  EXPECT_DOUBLE_EQ(r.seconds, 12.5);
  EXPECT_EQ(r.artifact, kOut / "trixie/24.11.5/amd64/slurm.tar.zst");
  // Only well-formed layer names with counts are kept.
  EXPECT_EQ(r.hits, (nlohmann::json{{"local", 2}}));
}

TEST(CellResultFromReport, AFailedCellKeepsItsErrorWithoutControlCharacters) {
  nlohmann::json c = ok_cell();
  c.erase("artifact");
  c["result"] = "failed";
  c["error"] = {{"kind", "build error"},
                {"stage", "build"},
                {"message", "make failed\x1b]0;pwned\x07 in slurm"},
                {"context", {{"package", "slurm"}, {"log", "/x/slurm.log"}, {"n", 3}}},
                {"remediation", "read the log"},
                {"exit_code", 7}};
  const CellResult r = cell_result_from_report(report_with(c), the_cell(), kOut);
  EXPECT_EQ(r.result, "failed");
  EXPECT_EQ(r.stage, "build");
  EXPECT_EQ(r.error_kind, "build error");
  EXPECT_EQ(r.error, "make failed?]0;pwned? in slurm");
  EXPECT_EQ(r.error_context, (nlohmann::json{{"package", "slurm"}, {"log", "/x/slurm.log"}}));
  EXPECT_EQ(r.exit_code, 7);
}

void expect_refused(const std::string& text, const std::string& why) {
  const CellResult r = cell_result_from_report(text, the_cell(), kOut);
  EXPECT_EQ(r.result, "failed") << text.substr(0, 200);
  EXPECT_EQ(r.stage, "report");
  EXPECT_THAT(r.error, HasSubstr(why)) << r.error;
  EXPECT_NE(r.exit_code, 0);
}

TEST(CellResultFromReport, WhatANodeSendsIsNotTrusted) {
  expect_refused("", "missing or empty");
  expect_refused("{not json", "is not JSON");
  expect_refused(std::string(5U << 20U, ' '), "larger than 4 MiB");
  expect_refused(R"({"cells": []})", "exactly one cell");
  nlohmann::json other = ok_cell();
  other["cell"] = "22.05.8-trixie-cpu";
  expect_refused(report_with(other), "names another cell");
  nlohmann::json weird = ok_cell();
  weird["result"] = "great";
  expect_refused(report_with(weird), "no valid result");
  // An artifact the node points at outside the cell's folder is refused, with or without "..".
  nlohmann::json out = ok_cell();
  out["artifact"] = "/etc/shadow";
  expect_refused(report_with(out), "outside the cell's folder");
  out["artifact"] = (kOut / "../../../etc/shadow").string();
  expect_refused(report_with(out), "outside the cell's folder");
  out["artifact"] = "/srv/out/24.11.5-trixie-cpu-other/x.tar.zst";
  expect_refused(report_with(out), "outside the cell's folder");
  out["artifact"] = kOut.string();
  expect_refused(report_with(out), "outside the cell's folder");
}

}  // namespace
}  // namespace sf
