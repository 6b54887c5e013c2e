#include "config/pipeline_executor.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>

#include "config/config_materialize.hpp"
#include "config/config_yaml.hpp"
#include "slurm_factory/errors.hpp"
#include "support/input_validation.hpp"
#include "support/strings.hpp"

namespace sf {
namespace {

using config::join_key;

[[noreturn]] void fail(const Config& c, const std::string& key, const std::string& what,
                       const std::string& remediation) {
  config::fail_at_key(c, key, what, remediation);
}

std::string checked_type(const Config& config, const std::string& type,
                         const std::string& key_path) {
  if (const std::string p = input_problem(InputKind::kName, type); !p.empty()) {
    fail(config, key_path, "invalid executor '" + printable(type) + "': " + p,
         "write executor: local (this host) or executor: slurm (a Slurm cluster)");
  }
  return type;
}

}  // namespace

const std::vector<std::string>& executor_core_keys() {
  static const std::vector<std::string> keys{"type", "shared_cache_dir", "command", "poll_seconds"};
  return keys;
}

PipelineExecutor parse_pipeline_executor(const Config& config, const YAML::Node& node,
                                         const std::string& key_path) {
  PipelineExecutor e;
  e.key_path = key_path;
  if (!node.IsDefined() || node.IsNull()) return e;
  if (node.IsScalar()) {
    e.type = checked_type(config, node.Scalar(), key_path);
    return e;
  }
  if (!node.IsMap()) {
    fail(config, key_path, "executor must be a word or a mapping",
         "write executor: slurm, or executor: {type: slurm, partition: build}");
  }
  const YAML::Node& n = node;
  const YAML::Node type = n["type"];
  if (!type.IsDefined() || !type.IsScalar()) {
    fail(config, key_path, "the executor mapping has no 'type'",
         "add type: slurm (or local) to the mapping");
  }
  e.type = checked_type(config, type.Scalar(), join_key(key_path, "type"));
  for (const auto& kv : n) {
    const std::string key = kv.first.Scalar();
    const std::string path = join_key(key_path, key);
    if (key == "type") continue;
    if (key == "shared_cache_dir") {
      if (!kv.second.IsScalar() || !YAML::convert<bool>::decode(kv.second, e.shared_cache_dir)) {
        fail(config, path, "shared_cache_dir must be true or false", "write true or false");
      }
    } else if (key == "command") {
      e.command = kv.second.IsScalar() ? kv.second.Scalar() : std::string();
      if (e.command.empty() || e.command.front() != '/' ||
          e.command.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
        fail(config, path, "command must be the absolute path of slurm-factory on the build nodes",
             "write e.g. command: /opt/slurm-factory/bin/slurm-factory, or remove the key to "
             "use this binary's path");
      }
    } else if (key == "poll_seconds") {
      const std::string v = kv.second.IsScalar() ? kv.second.Scalar() : std::string();
      double s = 0;
      const auto r = std::from_chars(v.data(), v.data() + v.size(), s);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size() || s < 0.2 || s > 600) {
        fail(config, path, "poll_seconds must be a number from 0.2 to 600",
             "write e.g. poll_seconds: 2");
      }
      e.poll_seconds = s;
    } else {
      e.settings[key] = config::yaml_to_json(kv.second);
    }
  }
  if (e.type == kLocalExecutor && !e.settings.empty()) {
    fail(config, join_key(key_path, e.settings.begin().key()),
         "the local executor takes no setting '" + e.settings.begin().key() + "'",
         "remove the key, or set type: slurm to run the cells on a Slurm cluster");
  }
  return e;
}

void check_executor_settings(const Config& config, const PipelineExecutor& executor,
                             const std::vector<std::string>& known) {
  for (const auto& [key, value] : executor.settings.items()) {
    (void)value;
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::vector<std::string> all = executor_core_keys();
    all.insert(all.end(), known.begin(), known.end());
    std::string hint;
    if (const std::string guess = config::did_you_mean(key, all); !guess.empty())
      hint = "did you mean '" + guess + "'? ";
    fail(config, join_key(executor.key_path, key),
         "unknown key '" + printable(key) + "' in " + executor.key_path + " (executor " +
             executor.type + ")",
         hint + "valid keys here: " + join(all, ", ") + " (see docs/pipelines.md)");
  }
}

}  // namespace sf
