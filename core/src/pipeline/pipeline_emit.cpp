#include "pipeline/pipeline_emit.hpp"

#include <yaml-cpp/yaml.h>

#include "slurm_factory/errors.hpp"

namespace sf {

nlohmann::json github_matrix(const std::vector<PipelineCell>& cells) {
  nlohmann::json include = nlohmann::json::array();
  for (const auto& c : cells) {
    include.push_back({{"cell", c.id},
                       {"slurm_version", c.slurm_version},
                       {"toolchain", c.toolchain},
                       {"gpu", gpu_label(c.gpu)},
                       {"arch", c.arch}});
  }
  return {{"include", include}};
}

std::string gitlab_matrix(const std::vector<PipelineCell>& cells) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "parallel" << YAML::Value << YAML::BeginMap << YAML::Key
      << "matrix" << YAML::Value << YAML::BeginSeq;
  for (const auto& c : cells) {
    // Quoted: GitLab reads 24.10 as a number otherwise.
    out << YAML::BeginMap;
    out << YAML::Key << "SF_CELL" << YAML::Value << YAML::DoubleQuoted << c.id;
    out << YAML::Key << "SF_SLURM_VERSION" << YAML::Value << YAML::DoubleQuoted << c.slurm_version;
    out << YAML::Key << "SF_TOOLCHAIN" << YAML::Value << YAML::DoubleQuoted << c.toolchain;
    out << YAML::Key << "SF_GPU" << YAML::Value << YAML::DoubleQuoted << gpu_label(c.gpu);
    out << YAML::Key << "SF_ARCH" << YAML::Value << YAML::DoubleQuoted << c.arch;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string emit_cells(const std::string& format, const std::vector<PipelineCell>& cells) {
  if (format == "github-matrix" || format == "github") return github_matrix(cells).dump() + "\n";
  if (format == "gitlab") return gitlab_matrix(cells);
  throw UsageError("unknown --emit format '" + format + "'",
                   {{"valid formats", "github-matrix, gitlab"}},
                   "use --emit github-matrix (JSON for strategy.matrix) or --emit gitlab "
                   "(a parallel: matrix: snippet)");
}

}  // namespace sf
