// A pipeline's `executor:` (docs/pipelines.md, "On a Slurm cluster"): where its cells run. A word
// (`executor: slurm`) or a mapping with `type:` and settings. The core reads `type` and its own
// keys (shared_cache_dir, command, poll_seconds); every other key is the executor plugin's and is
// checked, once the plugin is loaded, against the keys it declares (check_executor_settings).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace YAML {
class Node;
}

namespace sf {

inline constexpr const char* kLocalExecutor = "local";

struct PipelineExecutor {
  std::string type = kLocalExecutor;  // "local": cells run in this process
  // The plugin's settings (every key of the mapping but the core's).
  nlohmann::json settings = nlohmann::json::object();
  // The build nodes see this host's cache_dir (one node, or cache_dir on a shared filesystem):
  // cells sharing a package all start, and the package's build lock makes the others wait for
  // its entry. Otherwise a cell that needs a package an earlier cell builds waits for that cell's
  // job (afterok), so that no package is built twice.
  bool shared_cache_dir = false;
  std::string command;        // slurm-factory on the build nodes ("" = this binary's path)
  double poll_seconds = 2.0;  // how often the jobs' states are asked
  std::string key_path;       // "pipelines.NAME.executor", for errors
};

// The core's own keys of an `executor:` mapping.
const std::vector<std::string>& executor_core_keys();

// Parses the node at `key_path` (a word or a mapping). Throws ConfigurationError at file:line.
PipelineExecutor parse_pipeline_executor(const Config& config, const YAML::Node& node,
                                         const std::string& key_path);

// The plugin's keys of `executor` against those it declares: an unknown key is a
// ConfigurationError at its file:line:col with a did-you-mean and the valid keys.
void check_executor_settings(const Config& config, const PipelineExecutor& executor,
                             const std::vector<std::string>& known);

}  // namespace sf
