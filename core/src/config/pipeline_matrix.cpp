#include "config/pipeline_matrix.hpp"

#include <algorithm>

#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"

namespace sf {

std::string gpu_label(const std::vector<std::string>& gpu) {
  if (gpu.empty()) return "cpu";
  std::string s = join(gpu, "+");
  return s;
}

std::string cell_id(const std::string& slurm_version, const std::string& toolchain,
                    const std::vector<std::string>& gpu) {
  return slurm_version + "-" + toolchain + "-" + gpu_label(gpu);
}

namespace {

bool excluded(const PipelineDefinition& p, const PipelineCell& c) {
  return std::any_of(p.exclude.begin(), p.exclude.end(), [&](const PipelineExclude& e) {
    return (!e.slurm_version || *e.slurm_version == c.slurm_version) &&
           (!e.toolchain || *e.toolchain == c.toolchain) && (!e.gpu || *e.gpu == c.gpu) &&
           (!e.arch || *e.arch == c.arch);
  });
}

}  // namespace

std::vector<PipelineCell> expand_matrix(const PipelineDefinition& pipeline) {
  std::vector<PipelineCell> cells;
  for (const auto& v : pipeline.slurm_versions) {
    for (const auto& t : pipeline.toolchains) {
      for (const auto& g : pipeline.gpu_sets) {
        for (const auto& a : pipeline.arches) {
          // The id names the arch only when the matrix has several (ids of one-arch pipelines
          // stay as they were).
          std::string id = cell_id(v, t, g);
          if (pipeline.arches.size() > 1) id += "-" + a;
          PipelineCell c{id, v, t, g, a};
          if (!excluded(pipeline, c)) cells.push_back(std::move(c));
        }
      }
    }
  }
  return cells;
}

CellFilter parse_cell_filter(const std::string& text) {
  const auto eq = text.find('=');
  const std::string valid = "slurm_version (or version), toolchain, gpu, arch";
  if (eq == std::string::npos || eq == 0) {
    throw UsageError("invalid --only filter '" + text + "'", {{"valid keys", valid}},
                     "write KEY=VALUE, e.g. --only toolchain=noble or --only gpu=cuda");
  }
  CellFilter f{text.substr(0, eq), text.substr(eq + 1)};
  std::replace(f.key.begin(), f.key.end(), '-', '_');
  if (f.key == "version") f.key = "slurm_version";
  if (f.key != "slurm_version" && f.key != "toolchain" && f.key != "gpu" && f.key != "arch") {
    throw UsageError("unknown --only key '" + f.key + "'", {{"valid keys", valid}},
                     "filter on one of: " + valid);
  }
  if (f.key == "gpu") f.value = gpu_label(parse_gpu_set(f.value));
  return f;
}

bool cell_matches(const PipelineCell& cell, const CellFilter& f) {
  if (f.key == "slurm_version") return cell.slurm_version == f.value;
  if (f.key == "toolchain") return cell.toolchain == f.value;
  if (f.key == "gpu") return gpu_label(cell.gpu) == f.value;
  if (f.key == "arch") return cell.arch == f.value;
  return false;
}

std::vector<PipelineCell> filter_cells(const std::vector<PipelineCell>& cells,
                                       const std::vector<CellFilter>& filters) {
  std::vector<PipelineCell> out;
  for (const auto& c : cells) {
    if (std::all_of(filters.begin(), filters.end(),
                    [&](const CellFilter& f) { return cell_matches(c, f); })) {
      out.push_back(c);
    }
  }
  return out;
}

const PipelineCell& find_cell(const std::vector<PipelineCell>& cells, const std::string& id) {
  for (const auto& c : cells) {
    if (c.id == id) return c;
  }
  std::string list;
  for (const auto& c : cells) list += (list.empty() ? "" : ", ") + c.id;
  throw UsageError("no cell '" + id + "' in this pipeline", {{"cells", list}},
                   "use one of the ids 'slurm-factory run NAME --dry-run' prints");
}

}  // namespace sf
