#include "config/pipeline_matrix.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

std::vector<std::string> ids(const std::vector<PipelineCell>& cells) {
  std::vector<std::string> out;
  for (const auto& c : cells) out.push_back(c.id);
  return out;
}

PipelineDefinition nightly() {
  PipelineDefinition p;
  p.name = "nightly";
  p.slurm_versions = {"24.11", "25.11"};
  p.toolchains = {"noble", "rockylinux9"};
  p.gpu_sets = {{}, {"cuda"}};
  return p;
}

TEST(PipelineMatrix, ExpandsVersionsToolchainsGpuInOrder) {
  const auto cells = expand_matrix(nightly());
  EXPECT_EQ(ids(cells), (std::vector<std::string>{
                            "24.11-noble-cpu", "24.11-noble-cuda", "24.11-rockylinux9-cpu",
                            "24.11-rockylinux9-cuda", "25.11-noble-cpu", "25.11-noble-cuda",
                            "25.11-rockylinux9-cpu", "25.11-rockylinux9-cuda"}));
  EXPECT_EQ(cells[1].gpu, std::vector<std::string>{"cuda"});
  EXPECT_EQ(cells[1].slurm_version, "24.11");
  EXPECT_EQ(cells[1].toolchain, "noble");
  EXPECT_EQ(cells[1].arch, "amd64");
}

TEST(PipelineMatrix, ExcludeDropsCellsMatchingEveryKeyGiven) {
  auto p = nightly();
  PipelineExclude rocky_cuda;
  rocky_cuda.toolchain = "rockylinux9";
  rocky_cuda.gpu = std::vector<std::string>{"cuda"};
  PipelineExclude old_cpu;
  old_cpu.slurm_version = "24.11";
  old_cpu.gpu = std::vector<std::string>{};
  p.exclude = {rocky_cuda, old_cpu};
  EXPECT_EQ(ids(expand_matrix(p)),
            (std::vector<std::string>{"24.11-noble-cuda", "25.11-noble-cpu", "25.11-noble-cuda",
                                      "25.11-rockylinux9-cpu"}));
}

TEST(PipelineMatrix, CombinedGpuSetsHaveOneLabel) {
  auto p = nightly();
  p.slurm_versions = {"24.11"};
  p.toolchains = {"noble"};
  p.gpu_sets = {{"cuda", "rocm"}};
  EXPECT_EQ(ids(expand_matrix(p)), std::vector<std::string>{"24.11-noble-cuda+rocm"});
  EXPECT_EQ(gpu_label({}), "cpu");
  EXPECT_EQ(cell_id("25.11", "trixie", {"oneapi"}), "25.11-trixie-oneapi");
}

TEST(PipelineMatrix, OnlyFiltersKeepCellsMatchingEveryFilter) {
  const auto cells = expand_matrix(nightly());
  EXPECT_EQ(ids(filter_cells(
                cells, {parse_cell_filter("toolchain=noble"), parse_cell_filter("gpu=cuda")})),
            (std::vector<std::string>{"24.11-noble-cuda", "25.11-noble-cuda"}));
  EXPECT_EQ(
      ids(filter_cells(cells, {parse_cell_filter("version=25.11"), parse_cell_filter("gpu=cpu")})),
      (std::vector<std::string>{"25.11-noble-cpu", "25.11-rockylinux9-cpu"}));
  EXPECT_EQ(ids(filter_cells(cells, {parse_cell_filter("slurm-version=25.11"),
                                     parse_cell_filter("toolchain=rockylinux9"),
                                     parse_cell_filter("gpu=none")})),
            std::vector<std::string>{"25.11-rockylinux9-cpu"});
  EXPECT_TRUE(filter_cells(cells, {parse_cell_filter("toolchain=jammy")}).empty());
  EXPECT_EQ(filter_cells(cells, {}).size(), cells.size());
  // gpu values are normalised: "rocm,cuda" is the cell "cuda+rocm".
  EXPECT_EQ(parse_cell_filter("gpu=rocm,cuda").value, "cuda+rocm");
}

TEST(PipelineMatrix, BadFiltersAreUsageErrors) {
  EXPECT_THROW(parse_cell_filter("toolchain"), UsageError);
  EXPECT_THROW(parse_cell_filter("=noble"), UsageError);
  EXPECT_THROW(parse_cell_filter("os=noble"), UsageError);
  EXPECT_THROW(parse_cell_filter("gpu=nvidia"), UsageError);
}

TEST(PipelineMatrix, FindCellListsTheIdsWhenUnknown) {
  const auto cells = expand_matrix(nightly());
  EXPECT_EQ(find_cell(cells, "25.11-noble-cuda").slurm_version, "25.11");
  try {
    find_cell(cells, "25.11-jammy-cpu");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.context_value("cells"),
                ::testing::HasSubstr("24.11-noble-cpu, 24.11-noble-cuda"));
  }
}

}  // namespace
}  // namespace sf

namespace sf {
namespace {

// Issue 17: one cell per arch; the id names the arch only when the matrix has several.
TEST(PipelineMatrix, ArchesMultiplyTheCellsAndNameThemselvesInTheIdWhenSeveral) {
  PipelineDefinition p;
  p.name = "n";
  p.slurm_versions = {"24.11"};
  p.toolchains = {"trixie", "noble"};
  p.arches = {"amd64", "arm64"};
  PipelineExclude noble_arm;
  noble_arm.toolchain = "noble";
  noble_arm.arch = "arm64";
  p.exclude = {noble_arm};
  const auto cells = expand_matrix(p);
  EXPECT_EQ(ids(cells),
            (std::vector<std::string>{"24.11-trixie-cpu-amd64", "24.11-trixie-cpu-arm64",
                                      "24.11-noble-cpu-amd64"}));
  EXPECT_EQ(cells[1].arch, "arm64");
  p.arches = {"arm64"};
  p.exclude.clear();
  const auto one = expand_matrix(p);
  EXPECT_EQ(ids(one), (std::vector<std::string>{"24.11-trixie-cpu", "24.11-noble-cpu"}));
  EXPECT_EQ(one[0].arch, "arm64");
}

}  // namespace
}  // namespace sf
