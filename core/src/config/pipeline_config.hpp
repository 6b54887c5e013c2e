// `pipelines:` in the config: named build matrices (docs/pipelines.md). The schema
// (config_schema.cpp) checks the keys and types of each layer with file:line:col; parse_pipelines
// reads the merged config into PipelineDefinitions and checks the values (Slurm version syntax, GPU
// flavours, publish policy, duplicates, an exclude that names nothing, a matrix that excludes
// every cell), throwing ConfigurationError with the origin ("site.yaml:12:7") and key path of the
// offending value.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/build_request.hpp"
#include "config/config.hpp"
#include "config/pipeline_executor.hpp"
#include "support/host_arch.hpp"

namespace sf {

// An `exclude:` entry: a cell matching every key given is dropped.
struct PipelineExclude {
  std::optional<std::string> slurm_version;
  std::optional<std::string> toolchain;
  std::optional<std::vector<std::string>> gpu;  // a feature set; {} = CPU only
  std::optional<std::string> arch;
  std::string origin;  // where it was written
};

struct PipelineDefinition {
  std::string name;
  std::string origin;  // "site.yaml:40:3"
  std::vector<std::string> slurm_versions;
  std::vector<std::string> toolchains;
  std::vector<std::vector<std::string>> gpu_sets{{}};  // default: CPU only
  // matrix.arches (or the one matrix.arch): default this host's. Another architecture than the
  // host's is a cross build.
  std::vector<std::string> arches{host_arch()};
  std::vector<PipelineExclude> exclude;
  std::vector<std::string> packagers{"tarball"};
  PublishPolicy publish = PublishPolicy::kNone;
  std::string backend;  // "" = the config's backend
  std::string profile;  // "" = none (or the command line's --profile)
  int parallel = 1;     // cells at once
  bool keep_going = false;
  bool verify = false;
  std::optional<std::filesystem::path> output;  // artifacts root; "" = <cache>/pipelines/<name>
  PipelineExecutor executor;                    // where the cells run (default: this process)
};

// Every pipeline of the merged config, sorted by name. Throws ConfigurationError.
std::vector<PipelineDefinition> parse_pipelines(const Config& config);

// The pipeline called `name`; UsageError listing the configured ones otherwise.
const PipelineDefinition& find_pipeline(const std::vector<PipelineDefinition>& pipelines,
                                        const std::string& name);

// A GPU feature set written as a list ([], [cuda, rocm]) or a word ("cpu", "none", "cuda",
// "cuda,rocm", "cuda+rocm"): sorted, unique flavours. Throws UsageError for an unknown flavour.
std::vector<std::string> parse_gpu_set(const std::string& text);

}  // namespace sf
