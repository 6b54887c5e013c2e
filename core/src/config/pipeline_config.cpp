#include "config/pipeline_config.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <regex>
#include <set>
#include <utility>

#include "config/config_materialize.hpp"
#include "config/config_yaml.hpp"
#include "config/pipeline_matrix.hpp"
#include "slurm_factory/errors.hpp"
#include "support/input_validation.hpp"
#include "support/strings.hpp"

namespace sf {
namespace {

using config::join_index;
using config::join_key;

[[noreturn]] void fail(const Config& c, const std::string& key, const std::string& what,
                       const std::string& remediation) {
  config::fail_at_key(c, key, what, remediation);
}

YAML::Node child(const YAML::Node& node, const char* key) {
  if (!node.IsDefined() || !node.IsMap()) return YAML::Node();
  const YAML::Node& c = node;
  const YAML::Node v = c[key];
  if (!v.IsDefined()) return YAML::Node();  // absent: never reset() to an invalid node
  YAML::Node out;
  out.reset(v);
  return out;
}

bool set(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

std::string text(const YAML::Node& node, const std::string& fallback = {}) {
  return set(node) && node.IsScalar() ? node.Scalar() : fallback;
}

// A list of words, each checked by `check` (which may throw UsageError: turned into a
// ConfigurationError at the item's origin), without duplicates.
std::vector<std::string> words(const Config& config, const YAML::Node& seq, const std::string& path,
                               const std::function<std::string(const std::string&)>& check) {
  std::vector<std::string> out;
  if (!set(seq) || !seq.IsSequence()) return out;
  std::size_t i = 0;
  for (const auto& item : seq) {
    const std::string item_path = join_index(path, i++);
    std::string value = item.IsScalar() ? item.Scalar() : std::string();
    try {
      value = check(value);
    } catch (const UsageError& e) {
      fail(config, item_path, e.what(), e.remediation());
    }
    if (std::find(out.begin(), out.end(), value) != out.end()) {
      fail(config, item_path, "'" + value + "' is listed twice in " + path,
           "list each value once (a duplicate would make the same cell twice)");
    }
    out.push_back(std::move(value));
  }
  return out;
}

std::string gpu_text(const YAML::Node& node) {
  if (node.IsSequence()) {
    std::string joined;
    for (const auto& f : node) joined += (joined.empty() ? "" : ",") + f.Scalar();
    return joined;
  }
  return node.IsScalar() ? node.Scalar() : std::string();
}

std::vector<std::string> gpu_set_at(const Config& config, const YAML::Node& node,
                                    const std::string& path) {
  if (node.IsMap()) {
    fail(config, path, path + " must be a list of GPU flavours ([] or [cuda, rocm]) or a word",
         "write [] (CPU only), [cuda], [cuda, rocm], or cpu / cuda / cuda+rocm");
  }
  try {
    return parse_gpu_set(gpu_text(node));
  } catch (const UsageError& e) {
    fail(config, path, std::string(e.what()) + " in " + path,
         "GPU flavours: cuda, rocm, oneapi; [] or cpu for a CPU-only build");
  }
}

PipelineDefinition parse_one(const Config& config, const std::string& name,
                             const YAML::Node& node) {
  const std::string base = join_key("pipelines", name);
  PipelineDefinition d;
  d.name = name;
  d.origin = config.origin_of(base);
  // The name is a folder name (<cache>/pipelines/NAME) and part of every cell's id.
  if (const std::string p = input_problem(InputKind::kName, name); !p.empty()) {
    fail(config, base, "invalid pipeline name '" + printable(name) + "': " + p,
         "name it with " + describe(InputKind::kName));
  }
  if (!node.IsMap()) {
    fail(config, base, "pipeline '" + name + "' must be a mapping",
         "write matrix:, packagers:, publish: ... under it (docs/pipelines.md)");
  }
  const YAML::Node matrix = child(node, "matrix");
  const std::string mpath = join_key(base, "matrix");
  if (!set(matrix)) {
    fail(config, base, "pipeline '" + name + "' has no matrix",
         "add 'matrix: {slurm_versions: [24.11], toolchains: [noble]}' to it");
  }
  d.slurm_versions = words(config, child(matrix, "slurm_versions"),
                           join_key(mpath, "slurm_versions"), check_slurm_version_syntax);
  auto any_word = [](const std::string& s) {
    if (s.empty()) throw UsageError("an empty name", {}, "write a toolchain name, e.g. noble");
    return s;
  };
  auto toolchain_name = [](const std::string& s) {
    return check_input(InputKind::kToolchainName, s, "toolchain");
  };
  d.toolchains =
      words(config, child(matrix, "toolchains"), join_key(mpath, "toolchains"), toolchain_name);
  for (const auto& [list, key] :
       {std::pair{&d.slurm_versions, "slurm_versions"}, std::pair{&d.toolchains, "toolchains"}}) {
    if (list->empty()) {
      fail(config, join_key(mpath, key), "pipeline '" + name + "': matrix." + key + " is empty",
           std::string("list at least one value, e.g. ") + key + ": [" +
               (std::string(key) == "toolchains" ? "noble" : "24.11") + "]");
    }
  }
  if (const YAML::Node gpu = child(matrix, "gpu"); set(gpu)) {
    d.gpu_sets.clear();
    std::size_t i = 0;
    for (const auto& item : gpu) {
      const std::string path = join_index(join_key(mpath, "gpu"), i++);
      auto g = gpu_set_at(config, item, path);
      if (std::find(d.gpu_sets.begin(), d.gpu_sets.end(), g) != d.gpu_sets.end()) {
        fail(config, path, "the GPU set " + gpu_label(g) + " is listed twice in " + mpath + ".gpu",
             "list each feature set once");
      }
      d.gpu_sets.push_back(std::move(g));
    }
    if (d.gpu_sets.empty()) {
      fail(config, join_key(mpath, "gpu"), "pipeline '" + name + "': matrix.gpu is empty",
           "write gpu: [[]] for CPU only (the default), or [[], [cuda]]");
    }
  }
  auto arch_name = [](const std::string& s) {
    const auto& known = supported_arches();
    if (std::find(known.begin(), known.end(), s) == known.end()) {
      throw UsageError("invalid arch '" + printable(s) + "'", {},
                       "use one of: " + join(known, ", "));
    }
    return s;
  };
  if (set(child(matrix, "arch")) && set(child(matrix, "arches"))) {
    fail(config, join_key(mpath, "arch"), "pipeline '" + name + "' sets both arch and arches",
         "keep one: arches: [amd64, arm64] (or arch: arm64)");
  }
  if (const YAML::Node a = child(matrix, "arch"); set(a)) {
    const std::string path = join_key(mpath, "arch");
    try {
      d.arches = {arch_name(a.Scalar())};
    } catch (const UsageError& e) {
      fail(config, path, std::string(e.what()) + " in " + path, e.remediation());
    }
  }
  if (const YAML::Node a = child(matrix, "arches"); set(a)) {
    d.arches = words(config, a, join_key(mpath, "arches"), arch_name);
    if (d.arches.empty()) {
      fail(config, join_key(mpath, "arches"), "pipeline '" + name + "': matrix.arches is empty",
           "list at least one, e.g. arches: [amd64, arm64]");
    }
  }

  if (const YAML::Node ex = child(node, "exclude"); set(ex)) {
    std::size_t i = 0;
    for (const auto& item : ex) {
      const std::string path = join_index(join_key(base, "exclude"), i++);
      PipelineExclude e;
      e.origin = config.origin_of(path);
      if (const auto v = child(item, "slurm_version"); set(v)) {
        e.slurm_version = v.Scalar();
        if (std::find(d.slurm_versions.begin(), d.slurm_versions.end(), *e.slurm_version) ==
            d.slurm_versions.end()) {
          fail(config, join_key(path, "slurm_version"),
               "exclude names Slurm " + *e.slurm_version + ", which the matrix does not list",
               "use one of matrix.slurm_versions, or remove the key");
        }
      }
      if (const auto v = child(item, "toolchain"); set(v)) {
        e.toolchain = v.Scalar();
        if (std::find(d.toolchains.begin(), d.toolchains.end(), *e.toolchain) ==
            d.toolchains.end()) {
          fail(config, join_key(path, "toolchain"),
               "exclude names toolchain " + *e.toolchain + ", which the matrix does not list",
               "use one of matrix.toolchains, or remove the key");
        }
      }
      const bool has_gpu = item.IsMap() && std::as_const(item)["gpu"].IsDefined();
      if (const auto v = child(item, "gpu"); has_gpu) {
        e.gpu =
            v.IsNull() ? std::vector<std::string>{} : gpu_set_at(config, v, join_key(path, "gpu"));
      }
      if (const auto v = child(item, "arch"); set(v)) {
        e.arch = v.Scalar();
        if (std::find(d.arches.begin(), d.arches.end(), *e.arch) == d.arches.end()) {
          fail(config, join_key(path, "arch"),
               "exclude names arch " + printable(*e.arch) + ", which the matrix does not list",
               "use one of matrix.arches, or remove the key");
        }
      }
      if (!e.slurm_version && !e.toolchain && !e.gpu && !e.arch) {
        fail(config, path, "an exclude entry must name slurm_version, toolchain, gpu or arch",
             "write e.g. {toolchain: rockylinux9, gpu: [cuda]}");
      }
      d.exclude.push_back(std::move(e));
    }
  }

  if (const auto p = child(node, "packagers"); set(p)) {
    const auto names = words(config, p, join_key(base, "packagers"), any_word);
    for (std::size_t i = 0; i < names.size(); ++i) {
      static const std::regex kPackager("^[a-z][a-z0-9_-]{0,39}$");
      if (!std::regex_match(names[i], kPackager)) {
        fail(config, join_index(join_key(base, "packagers"), i),
             "invalid packager '" + printable(names[i]) + "'",
             "name packagers by lower-case words: packagers: [tarball, deb]");
      }
    }
    // The tarball first, always: it is the artifact verify, publish and the index read.
    d.packagers = parse_packagers(names, join_key(base, "packagers"));
  }
  if (const auto p = child(node, "publish"); set(p)) {
    try {
      d.publish = parse_publish_policy(p.Scalar());
    } catch (const UsageError& e) {
      fail(config, join_key(base, "publish"), e.what(), "write publish: none, cache or all");
    }
  }
  d.backend = text(child(node, "backend"));
  if (const std::string p = input_problem(InputKind::kName, d.backend);
      !d.backend.empty() && !p.empty()) {
    fail(config, join_key(base, "backend"), "invalid backend '" + printable(d.backend) + "': " + p,
         "write backend: docker or backend: podman");
  }
  d.profile = text(child(node, "profile"));
  if (!d.profile.empty() &&
      std::find(config.available_profiles.begin(), config.available_profiles.end(), d.profile) ==
          config.available_profiles.end()) {
    std::string list = join(config.available_profiles, ", ");
    fail(config, join_key(base, "profile"),
         "pipeline '" + name + "' names profile '" + d.profile + "', which no config file defines",
         "define it under profiles: (defined: " + (list.empty() ? std::string("none") : list) +
             ") or remove the key");
  }
  if (const std::string par = text(child(node, "parallel")); !par.empty()) {
    int v = 1;
    std::from_chars(par.data(), par.data() + par.size(), v);
    d.parallel = std::max(1, v);
  }
  if (const auto v = child(node, "keep_going"); set(v))
    YAML::convert<bool>::decode(v, d.keep_going);
  if (const auto v = child(node, "verify"); set(v)) YAML::convert<bool>::decode(v, d.verify);
  if (const std::string out = text(child(node, "output")); !out.empty()) {
    d.output = config::expand_home(out, config, join_key(base, "output"));
  }
  d.executor = parse_pipeline_executor(config, child(node, "executor"), join_key(base, "executor"));
  return d;
}

}  // namespace

std::vector<std::string> parse_gpu_set(const std::string& text) {
  if (text.empty() || text == "cpu" || text == "none") return {};
  std::string t = text;
  std::replace(t.begin(), t.end(), '+', ',');
  return parse_gpu_flavours({t});
}

std::vector<PipelineDefinition> parse_pipelines(const Config& config) {
  std::vector<PipelineDefinition> out;
  YAML::Node root;
  root.reset(child(config.tree, "pipelines"));
  if (!set(root)) return out;
  for (const auto& kv : root) {
    if (!set(kv.second)) continue;
    PipelineDefinition d = parse_one(config, kv.first.Scalar(), kv.second);
    if (expand_matrix(d).empty()) {
      fail(config, join_key(join_key("pipelines", d.name), "exclude"),
           "pipeline '" + d.name + "': the exclude entries remove every cell of the matrix",
           "remove or narrow an exclude entry");
    }
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

const PipelineDefinition& find_pipeline(const std::vector<PipelineDefinition>& pipelines,
                                        const std::string& name) {
  for (const auto& p : pipelines) {
    if (p.name == name) return p;
  }
  std::string list;
  for (const auto& p : pipelines) list += (list.empty() ? "" : ", ") + p.name;
  throw UsageError("no pipeline named '" + name + "' in the config",
                   {{"pipeline", name}, {"configured", list.empty() ? "(none)" : list}},
                   list.empty() ? "define one under 'pipelines:' in your config (docs/pipelines.md)"
                                : "run one of: " + list);
}

}  // namespace sf
