// A pipeline's matrix expanded into cells: Slurm versions x toolchains x GPU feature sets, minus
// the `exclude:` entries, in the order written (versions outermost). Each cell has a stable id
// "<slurm_version>-<toolchain>-<gpu>" ("24.11-noble-cpu", "25.11-rockylinux9-cuda+rocm") that
// `run --cell`, the CI matrices (pipeline_emit.hpp) and the report use. `--only KEY=VALUE` filters
// keep the cells matching every filter.
#pragma once

#include <string>
#include <vector>

#include "config/pipeline_config.hpp"

namespace sf {

struct PipelineCell {
  std::string id;
  std::string slurm_version;
  std::string toolchain;
  std::vector<std::string> gpu;  // sorted flavours; empty = CPU only
  std::string arch = "amd64";
};

// "cpu" for no GPU, else the flavours joined with '+': "cuda", "cuda+rocm".
std::string gpu_label(const std::vector<std::string>& gpu);
std::string cell_id(const std::string& slurm_version, const std::string& toolchain,
                    const std::vector<std::string>& gpu);

std::vector<PipelineCell> expand_matrix(const PipelineDefinition& pipeline);

struct CellFilter {
  std::string key;  // slurm_version | toolchain | gpu | arch
  std::string value;
};
// "KEY=VALUE" (keys: slurm_version or version, toolchain, gpu, arch; gpu values as in the config:
// cpu, cuda, cuda+rocm, cuda,rocm). Throws UsageError naming the bad filter and the valid keys.
CellFilter parse_cell_filter(const std::string& text);
bool cell_matches(const PipelineCell& cell, const CellFilter& filter);
std::vector<PipelineCell> filter_cells(const std::vector<PipelineCell>& cells,
                                       const std::vector<CellFilter>& filters);
// The cell with this id; UsageError listing the pipeline's cells otherwise.
const PipelineCell& find_cell(const std::vector<PipelineCell>& cells, const std::string& id);

}  // namespace sf
