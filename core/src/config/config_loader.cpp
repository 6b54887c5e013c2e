#include "config/config_loader.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "config/config_deprecated.hpp"
#include "config/config_materialize.hpp"
#include "config/config_merge.hpp"
#include "config/config_profiles.hpp"
#include "config/config_schema.hpp"
#include "config/config_validate.hpp"
#include "config/config_yaml.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"

extern "C" {
extern const char sf_default_config_yaml[];
extern const unsigned long sf_default_config_yaml_size;
}

namespace sf {

namespace fs = std::filesystem;
using config::LayerSource;

std::string Config::origin_of(const std::string& key_path) const {
  std::string path = key_path;
  while (!path.empty()) {
    if (auto it = origins.find(path); it != origins.end()) return it->second;
    const auto cut = path.find_last_of(".[");
    if (cut == std::string::npos) break;
    path.resize(cut);
  }
  return {};
}

std::string_view embedded_default_config() {
  return {sf_default_config_yaml, static_cast<std::size_t>(sf_default_config_yaml_size)};
}

namespace {

const char* const kEnvVars[] = {"HOME", "XDG_CONFIG_HOME", "SLURM_FACTORY_CACHE_DIR",
                                "SLURM_FACTORY_PLUGIN_PATH", "SLURM_FACTORY_PROFILE"};

std::string env_value(const ConfigSources& s, const std::string& name) {
  auto it = s.environment.find(name);
  return it == s.environment.end() ? std::string() : it->second;
}

YAML::Node parse(const std::string& text, const LayerSource& source) {
  try {
    return config::load_bounded(text, [&source](const YAML::Mark& m) { return source.where(m); });
  } catch (const YAML::ParserException& e) {
    const std::string where = source.where(e.mark);
    throw ConfigurationError(where + ": YAML syntax error: " + e.msg, {{"file", where}},
                             "fix the YAML at that line (indentation, a missing ':' or quote)");
  }
}

// Reads a config file. Returns false when it does not exist and `optional` is set.
bool read_file(const fs::path& path, bool optional, std::string& text) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) {
    if (optional) return false;
    throw ConfigurationError("config file " + path.string() + " does not exist",
                             {{"file", path.string()}},
                             "check the path given to --config (relative paths are taken from the "
                             "current directory)");
  }
  if (fs::is_directory(status)) {
    throw ConfigurationError("config file " + path.string() + " is a directory",
                             {{"file", path.string()}}, "give the path of a YAML file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigurationError("cannot read config file " + path.string(), {{"file", path.string()}},
                             "check its permissions (the current user must be able to read it)");
  }
  // Never more than the cap (plus one byte to see it is exceeded), whatever the file is.
  text.assign(config::kMaxYamlBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > config::kMaxYamlBytes) {
    throw ConfigurationError("config file " + path.string() + " is larger than " +
                                 std::to_string(config::kMaxYamlBytes >> 20) + " MiB",
                             {{"file", path.string()}},
                             "check that --config names the right file (a config is a few KiB)");
  }
  return true;
}

void add_layer(Config& c, config::ProfileSet& profiles, const std::string& text,
               const LayerSource& source) {
  const YAML::Node layer = parse(text, source);
  if (!layer.IsDefined() || layer.IsNull()) return;  // an empty file
  config::validate(layer, config::root_schema(), "", source);
  profiles.add(layer["profiles"], source);
  config::merge_layer(c.tree, c.origins, layer, config::root_schema(), source);
  config::move_deprecated_keys(c.tree, c.origins, layer, config::root_schema(), source, c.warnings);
}

// $SLURM_FACTORY_PLUGIN_PATH entries go before the configured search paths.
void prepend_search_paths(Config& c, const std::string& env) {
  std::vector<std::string> entries;
  std::string rest = env;
  while (true) {
    const auto colon = rest.find(':');
    const std::string part = rest.substr(0, colon);
    if (!part.empty()) entries.push_back(part);
    if (colon == std::string::npos) break;
    rest = rest.substr(colon + 1);
  }
  if (entries.empty()) return;
  const std::string key = "plugins.search_paths";
  YAML::Node merged(YAML::NodeType::Sequence);
  std::vector<std::string> origins;
  for (const auto& e : entries) {
    merged.push_back(e);
    origins.push_back("env SLURM_FACTORY_PLUGIN_PATH");
  }
  const YAML::Node& tree = c.tree;
  const YAML::Node plugins = tree["plugins"];
  const YAML::Node old = plugins.IsDefined() && plugins.IsMap()
                             ? static_cast<const YAML::Node&>(plugins)["search_paths"]
                             : YAML::Node();
  if (old.IsDefined() && old.IsSequence()) {
    std::size_t i = 0;
    for (const auto& item : old) {
      merged.push_back(item.Scalar());
      origins.push_back(c.origin_of(config::join_index(key, i++)));
    }
  }
  if (!c.tree["plugins"].IsDefined() || !c.tree["plugins"].IsMap()) {
    c.tree["plugins"] = YAML::Node(YAML::NodeType::Map);
  }
  config::erase_origins_under(c.origins, key);
  c.tree["plugins"]["search_paths"] = merged;
  c.origins[key] = "env SLURM_FACTORY_PLUGIN_PATH";
  for (std::size_t i = 0; i < origins.size(); ++i) {
    c.origins[config::join_index(key, i)] = origins[i];
  }
}

}  // namespace

ConfigSources ConfigSources::from_global(const GlobalOptions& global) {
  ConfigSources s;
  for (const auto& f : global.config_files) s.files.emplace_back(f);
  for (const char* name : kEnvVars) {
    if (const char* v = std::getenv(name); v != nullptr) s.environment[name] = v;
  }
  s.profile = global.profile;
  const std::string from_env = env_value(s, "SLURM_FACTORY_PROFILE");
  s.profile_origin =
      !from_env.empty() && from_env == global.profile ? "env SLURM_FACTORY_PROFILE" : "--profile";
  return s;
}

fs::path user_config_file(const ConfigSources& s) {
  if (!s.user_file.empty()) return s.user_file;
  if (const std::string xdg = env_value(s, "XDG_CONFIG_HOME"); !xdg.empty()) {
    return fs::path(xdg) / "slurm-factory" / "config.yaml";
  }
  if (const std::string home = env_value(s, "HOME"); !home.empty()) {
    return fs::path(home) / ".config" / "slurm-factory" / "config.yaml";
  }
  return {};
}

Config load_config(const ConfigSources& sources) {
  Config c;
  c.tree = YAML::Node(YAML::NodeType::Map);
  c.home = env_value(sources, "HOME");
  config::ProfileSet profiles;

  add_layer(c, profiles, std::string(embedded_default_config()),
            LayerSource::fixed("default", "embedded default config (configs/default.yaml)",
                               /*has_marks=*/true));
  std::string text;
  if (sources.read_system_file && read_file(sources.system_file, true, text)) {
    add_layer(c, profiles, text, LayerSource::from_file(sources.system_file.string()));
  }
  if (sources.read_user_file) {
    const fs::path user = user_config_file(sources);
    if (!user.empty() && read_file(user, true, text)) {
      add_layer(c, profiles, text, LayerSource::from_file(user.string()));
    }
  }
  for (const auto& file : sources.files) {
    read_file(file, false, text);
    add_layer(c, profiles, text, LayerSource::from_file(file.string()));
  }

  c.available_profiles = profiles.names();
  if (!sources.profile.empty()) {
    profiles.apply(sources.profile, sources.profile_origin, c.tree, c.origins, c.warnings);
    c.profile = sources.profile;
    c.origins["profile"] = sources.profile_origin;
  }

  if (const std::string dir = env_value(sources, "SLURM_FACTORY_CACHE_DIR"); !dir.empty()) {
    YAML::Node layer(YAML::NodeType::Map);
    layer["cache_dir"] = dir;
    const auto source = LayerSource::fixed("env SLURM_FACTORY_CACHE_DIR",
                                           "environment variable SLURM_FACTORY_CACHE_DIR");
    config::validate(layer, config::root_schema(), "", source);
    config::merge_layer(c.tree, c.origins, layer, config::root_schema(), source);
  }
  prepend_search_paths(c, env_value(sources, "SLURM_FACTORY_PLUGIN_PATH"));

  config::materialize(c);
  for (const auto& w : c.warnings) log().warn("{}", w);
  // Plugins are code: where they come from must not depend on the current folder.
  for (std::size_t i = 0; i < c.plugin_search_paths.size(); ++i) {
    if (c.plugin_search_paths[i].is_relative()) {
      const std::string key = config::join_index("plugins.search_paths", i);
      const std::string origin = c.origin_of(key);
      throw ConfigurationError(origin + ": plugin search path '" +
                                   c.plugin_search_paths[i].string() +
                                   "' is relative: the plugins loaded would depend on the "
                                   "current folder",
                               {{"file", origin}, {"key", key}},
                               "write an absolute path (~/ and ${cache_dir}/ are expanded)");
    }
  }
  return c;
}

namespace {

std::vector<std::string> split_key(const std::string& key_path) {
  std::vector<std::string> words;
  std::string rest = key_path;
  while (true) {
    const auto dot = rest.find('.');
    words.push_back(rest.substr(0, dot));
    if (dot == std::string::npos) break;
    rest = rest.substr(dot + 1);
  }
  return words;
}

YAML::Node override_value(const config::SchemaNode& schema, const std::string& value,
                          const std::string& origin) {
  using config::ValueType;
  if (schema.type == ValueType::kSequence && schema.element->type != ValueType::kMap &&
      (value.empty() || value.front() != '[')) {
    YAML::Node seq(YAML::NodeType::Sequence);
    std::string rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      seq.push_back(rest.substr(0, comma));
      if (comma == std::string::npos) break;
      rest = rest.substr(comma + 1);
    }
    return seq;
  }
  if (schema.type == ValueType::kSequence || schema.type == ValueType::kMap ||
      schema.type == ValueType::kNamedMap || schema.type == ValueType::kFree ||
      schema.type == ValueType::kAny) {
    return config::load_bounded(value, origin);
  }
  return YAML::Node(value);
}

}  // namespace

void apply_override(Config& config, const std::string& key_path, const std::string& value,
                    const std::string& origin) {
  const config::SchemaNode* schema = config::schema_at(key_path);
  if (schema == nullptr || key_path.find('[') != std::string::npos || key_path.empty() ||
      key_path.rfind("profiles", 0) == 0) {
    throw UsageError("'" + key_path + "' is not a config key that a flag can set",
                     {{"option", origin}, {"key", key_path}},
                     "see docs/config.md for the keys; list elements are set with the whole list");
  }
  if (!schema->replaced_by.empty()) {
    throw UsageError("'" + key_path + "' is deprecated", {{"option", origin}, {"key", key_path}},
                     "set '" + schema->replaced_by + "' instead");
  }
  const auto source = LayerSource::fixed(origin, origin);
  try {
    YAML::Node node = override_value(*schema, value, origin);
    const auto words = split_key(key_path);
    for (auto it = words.rbegin(); it != words.rend(); ++it) {
      YAML::Node parent(YAML::NodeType::Map);
      parent[*it] = node;
      node.reset(parent);
    }
    config::validate(node, config::root_schema(), "", source);
    config::merge_layer(config.tree, config.origins, node, config::root_schema(), source);
    config::materialize(config);
  } catch (const YAML::Exception& e) {
    throw UsageError(
        origin + ": cannot read '" + value + "' as " + config::describe(*schema) + ": " + e.msg,
        {{"option", origin}, {"key", key_path}}, "check the value's syntax");
  } catch (const ConfigurationError& e) {
    throw UsageError(e.what(), {{"option", origin}, {"key", key_path}}, e.remediation());
  }
}

}  // namespace sf
