// CI fan-out: a pipeline's cells as a CI system's matrix, so that each cell runs on its own machine
// with `slurm-factory run NAME --cell ID` (docs/pipelines.md has complete workflow files).
//   github-matrix: {"include":[{"cell":ID,"slurm_version":..,"toolchain":..,"gpu":..,"arch":..}]}
//                  (for `strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}`)
//   gitlab:        a `parallel: matrix:` YAML snippet, one entry per cell with SF_CELL,
//                  SF_SLURM_VERSION, SF_TOOLCHAIN, SF_GPU, SF_ARCH variables
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/pipeline_matrix.hpp"

namespace sf {

nlohmann::json github_matrix(const std::vector<PipelineCell>& cells);
std::string gitlab_matrix(const std::vector<PipelineCell>& cells);

// "github-matrix" | "gitlab" -> the text to print (JSON on one line for GitHub, so that it can go
// to $GITHUB_OUTPUT as matrix=...). Throws UsageError naming the valid formats.
std::string emit_cells(const std::string& format, const std::vector<PipelineCell>& cells);

}  // namespace sf
