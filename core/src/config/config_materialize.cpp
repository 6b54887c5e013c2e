#include "config/config_materialize.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <set>
#include <utility>

#include "config/config_yaml.hpp"
#include "config/pipeline_config.hpp"
#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"

namespace sf::config {
namespace {

// tree[k1][k2]...: rebinding with reset(), never operator= (which would rewrite the tree).
YAML::Node at(const YAML::Node& tree, std::initializer_list<const char*> keys) {
  YAML::Node current;
  current.reset(tree);
  for (const char* k : keys) {
    if (!current.IsDefined() || !current.IsMap()) return YAML::Node();
    const YAML::Node next = std::as_const(current)[k];
    if (!next.IsDefined()) return YAML::Node();  // absent: a null node, read as "not set"
    current.reset(next);
  }
  return current;
}

[[noreturn]] void fail(const Config& config, const std::string& key_path, const std::string& what,
                       const std::string& remediation) {
  fail_at_key(config, key_path, what, remediation);
}

std::string text(const YAML::Node& node, const std::string& fallback = {}) {
  if (!node.IsDefined() || node.IsNull() || !node.IsScalar()) return fallback;
  return node.Scalar();
}

bool boolean(const YAML::Node& node, bool fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  bool b = fallback;
  YAML::convert<bool>::decode(node, b);
  return b;
}

long long integer(const YAML::Node& node, long long fallback) {
  const std::string t = text(node);
  if (t.empty()) return fallback;
  long long v = fallback;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

// "${cache_dir}" and a leading "~" in a path; "file://~/..." and "${cache_dir}" in a URL.
std::string expand_path(const std::string& value, const Config& config,
                        const std::string& key_path) {
  return replace_all(expand_home(value, config, key_path), "${cache_dir}",
                     config.cache_dir.string());
}

std::string expand_url(const std::string& value, const Config& config,
                       const std::string& key_path) {
  std::string v = replace_all(value, "${cache_dir}", config.cache_dir.string());
  if (v.rfind("file://~", 0) == 0) v = "file://" + expand_home(v.substr(7), config, key_path);
  return v;
}

std::vector<std::string> strings(const YAML::Node& seq) {
  std::vector<std::string> out;
  if (!seq.IsDefined() || !seq.IsSequence()) return out;
  for (const auto& item : seq) out.push_back(item.Scalar());
  return out;
}

}  // namespace

std::string expand_home(const std::string& value, const Config& config,
                        const std::string& key_path) {
  if (value.empty() || value[0] != '~') return value;
  if (value.size() > 1 && value[1] != '/') {
    fail(config, key_path, "'" + value + "': only '~' and '~/...' (your own home) are understood",
         "write the full path instead of ~user");
  }
  if (config.home.empty()) {
    fail(config, key_path, "'" + value + "' needs $HOME, which is not set",
         "set HOME, or write a full path (for the cache: export SLURM_FACTORY_CACHE_DIR=/path)");
  }
  if (value == "~" || value == "~/") return config.home.string();
  return (config.home / value.substr(2)).string();
}

namespace {

// "cache.layers[i]" of the layer named `name` in the config, or "" (a layer made on the command
// line, e.g. --local-cache).
std::string layer_path(const Config& config, const std::string& name) {
  for (std::size_t i = 0; i < config.cache_layers.size(); ++i) {
    if (config.cache_layers[i].name == name) return join_index("cache.layers", i);
  }
  return {};
}

}  // namespace

void check_layer_settings(const Config& config, const CacheLayerSpec& layer,
                          const std::vector<std::string>& plugin_keys) {
  if (!layer.settings.is_object()) return;
  // What the core itself reads of any layer's settings (`cache index --html` links), then what
  // the provider plugin declares.
  std::vector<std::string> known{"public_url"};
  known.insert(known.end(), plugin_keys.begin(), plugin_keys.end());
  const std::string path = layer_path(config, layer.name);
  for (const auto& [key, value] : layer.settings.items()) {
    (void)value;
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    const std::string settings_path =
        path.empty() ? "settings" : join_key(join_key(path, "settings"), key);
    std::string hint;
    if (const std::string guess = did_you_mean(key, known); !guess.empty())
      hint = "did you mean '" + guess + "'? ";
    std::string valid = join(known, ", ");
    fail(config, settings_path,
         "unknown key '" + key + "' in " +
             (path.empty() ? "settings" : join_key(path, "settings")) + " (cache layer '" +
             layer.name + "', type " + layer.type + ")",
         hint +
             (plugin_keys.empty()
                  ? "a " + layer.type + " layer takes only public_url: remove the others"
                  : "valid keys here: " + valid) +
             " (see docs/config.md)");
  }
}

std::string layer_setting_origin(const Config& config, const std::string& layer_name,
                                 const std::string& setting) {
  const std::string path = layer_path(config, layer_name);
  if (path.empty()) return {};
  return config.origin_of(setting.empty() ? path : join_key(join_key(path, "settings"), setting));
}

void materialize(Config& c) {
  const YAML::Node& t = c.tree;

  const std::string cache_dir = text(at(t, {"cache_dir"}));
  if (cache_dir.empty()) {
    fail(c, "cache_dir", "cache_dir is empty",
         "set cache_dir in a config file or SLURM_FACTORY_CACHE_DIR (default ~/.slurm-factory)");
  }
  c.cache_dir = expand_home(cache_dir, c, "cache_dir");
  if (c.cache_dir.is_relative()) c.cache_dir = std::filesystem::absolute(c.cache_dir);

  c.plugin_search_paths.clear();
  {
    std::size_t i = 0;
    for (const auto& p : strings(at(t, {"plugins", "search_paths"}))) {
      c.plugin_search_paths.emplace_back(
          expand_path(p, c, join_index("plugins.search_paths", i++)));
    }
  }
  c.plugins = strings(at(t, {"plugins", "load"}));

  c.default_backend = text(at(t, {"backend"}));
  if (c.default_backend.empty()) {
    fail(c, "backend", "no container backend is set", "set 'backend: docker' or 'backend: podman'");
  }
  c.packagers = nlohmann::json::object();
  if (const YAML::Node b = at(t, {"packagers"}); b.IsDefined() && b.IsMap()) {
    for (const auto& kv : b) c.packagers[kv.first.Scalar()] = yaml_to_json(kv.second);
  }
  c.backends = nlohmann::json::object();
  if (const YAML::Node b = at(t, {"backends"}); b.IsDefined() && b.IsMap()) {
    for (const auto& kv : b) c.backends[kv.first.Scalar()] = yaml_to_json(kv.second);
  }

  c.cache_layers.clear();
  {
    std::set<std::string> names;
    std::size_t i = 0;
    const YAML::Node layers = at(t, {"cache", "layers"});
    if (layers.IsDefined() && layers.IsSequence()) {
      for (const auto& layer : layers) {
        const std::string path = join_index("cache.layers", i++);
        CacheLayerSpec spec;
        spec.name = text(layer["name"]);
        spec.type = text(layer["type"]);
        spec.url = expand_url(text(layer["url"]), c, join_key(path, "url"));
        spec.writable = boolean(layer["writable"], true);
        if (layer["settings"].IsDefined() && layer["settings"].IsMap()) {
          spec.settings = yaml_to_json(layer["settings"]);
        }
        if (!names.insert(spec.name).second) {
          fail(c, join_key(path, "name"), "two cache layers are named '" + spec.name + "'",
               "give each layer in cache.layers its own name");
        }
        c.cache_layers.push_back(std::move(spec));
      }
    }
  }

  SigningSettings s;
  s.key_id = text(at(t, {"signing", "key_id"}));
  s.keyring = expand_path(text(at(t, {"signing", "keyring"})), c, "signing.keyring");
  for (auto fp : strings(at(t, {"signing", "trusted_fingerprints"}))) {
    fp.erase(std::remove(fp.begin(), fp.end(), ' '), fp.end());
    std::transform(fp.begin(), fp.end(), fp.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    s.trusted_fingerprints.push_back(fp);
  }
  s.private_key_file =
      expand_path(text(at(t, {"signing", "private_key_file"})), c, "signing.private_key_file");
  s.private_key_env = text(at(t, {"signing", "private_key_env"}));
  s.passphrase_file =
      expand_path(text(at(t, {"signing", "passphrase_file"})), c, "signing.passphrase_file");
  s.passphrase_env = text(at(t, {"signing", "passphrase_env"}));
  s.require_signed = boolean(at(t, {"signing", "require_signed"}), false);
  s.allow_unsigned = boolean(at(t, {"signing", "allow_unsigned"}), false);
  if (s.require_signed && s.allow_unsigned) {
    fail(c, "signing.allow_unsigned",
         "signing.require_signed and signing.allow_unsigned are both true",
         "set only one of them (a profile may turn the other off)");
  }
  if (!s.private_key_file.empty() && !s.private_key_env.empty()) {
    fail(c, "signing.private_key_env",
         "both signing.private_key_file and signing.private_key_env are set",
         "keep one place for the private key");
  }
  c.signing = std::move(s);

  BuildLimits b;
  b.jobs = static_cast<int>(integer(at(t, {"build", "jobs"}), b.jobs));
  b.cpus = std::strtod(text(at(t, {"build", "cpus"}), "0").c_str(), nullptr);
  b.memory = text(at(t, {"build", "memory"}), b.memory);
  b.shm = text(at(t, {"build", "shm"}), b.shm);
  b.pids = static_cast<int>(integer(at(t, {"build", "pids"}), b.pids));
  b.network = boolean(at(t, {"build", "network"}), b.network);
  b.ccache = boolean(at(t, {"build", "ccache"}), b.ccache);
  b.ccache_max_size = text(at(t, {"build", "ccache_max_size"}), b.ccache_max_size);
  b.incremental = boolean(at(t, {"build", "incremental"}), b.incremental);
  c.build = b;

  c.toolchains.clear();
  if (const YAML::Node tc = at(t, {"toolchains"}); tc.IsDefined() && tc.IsMap()) {
    for (const auto& kv : tc) {
      SiteToolchain site;
      site.name = kv.first.Scalar();
      site.family = text(kv.second["family"]);
      site.definition = kv.second;
      site.origin = c.origin_of(join_key("toolchains", site.name));
      c.toolchains.push_back(std::move(site));
    }
  }

  c.toolchain_families.clear();
  if (const YAML::Node f = at(t, {"toolchain_families"}); f.IsDefined() && f.IsMap()) {
    for (const auto& kv : f) {
      ToolchainFamilySettings settings;
      if (kv.second.IsMap()) settings.mirror = text(kv.second["mirror"]);
      c.toolchain_families[kv.first.Scalar()] = std::move(settings);
    }
  }
  const YAML::Node pipelines = at(t, {"pipelines"});
  c.pipelines = pipelines.IsDefined() && !pipelines.IsNull() ? yaml_to_json(pipelines)
                                                             : nlohmann::json::object();
  // The values of every pipeline (the schema checked their keys and types): an error cites the
  // file:line of the value now, not when `run` is called.
  parse_pipelines(c);
}

void fail_at_key(const Config& config, const std::string& key_path, const std::string& what,
                 const std::string& remediation) {
  const std::string origin = config.origin_of(key_path);
  throw ConfigurationError((origin.empty() ? key_path : origin) + ": " + what,
                           {{"file", origin}, {"key", key_path}}, remediation);
}

}  // namespace sf::config
