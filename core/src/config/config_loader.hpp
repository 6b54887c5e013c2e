// Loading the configuration: the embedded default, /etc/slurm-factory/config.yaml,
// ~/.config/slurm-factory/config.yaml, each --config FILE, the selected profile, the environment,
// then CLI flags through apply_override(). Each layer is validated against the schema before it is
// merged; errors are ConfigurationErrors with file:line:col and the key path.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/global_options.hpp"

namespace sf {

struct ConfigSources {
  // --config FILE, in order (later wins). Each must exist.
  std::vector<std::filesystem::path> files;
  // The profile to apply ("" for none) and what selected it (for messages and `config show`).
  std::string profile;
  std::string profile_origin = "--profile";
  // The site and user files; skipped silently when absent. Tests turn them off or point them at
  // temporary directories. An empty user_file means $XDG_CONFIG_HOME/slurm-factory/config.yaml, or
  // $HOME/.config/slurm-factory/config.yaml.
  bool read_system_file = true;
  std::filesystem::path system_file = "/etc/slurm-factory/config.yaml";
  bool read_user_file = true;
  std::filesystem::path user_file;
  // The environment consulted: HOME, XDG_CONFIG_HOME, SLURM_FACTORY_CACHE_DIR,
  // SLURM_FACTORY_PLUGIN_PATH. Nothing else is read from the process.
  std::map<std::string, std::string> environment;

  // The sources for a command line: the global options plus the process environment.
  static ConfigSources from_global(const GlobalOptions& global);
};

// configs/default.yaml as compiled into the library.
std::string_view embedded_default_config();

// The user file that `sources` reads ("" when neither XDG_CONFIG_HOME nor HOME is known).
std::filesystem::path user_config_file(const ConfigSources& sources);

// Loads, validates and merges every source. Throws ConfigurationError.
Config load_config(const ConfigSources& sources);

// Sets one key from a CLI flag, e.g. apply_override(config, "build.jobs", "8", "--jobs"). The value
// is read as the key's type (a list from "a,b,c" or "[a, b]", a mapping from flow YAML "{k: v}"),
// validated like a file value, recorded with `origin`, and the typed fields are remade. Throws
// UsageError naming `origin` for an unknown key or a bad value.
void apply_override(Config& config, const std::string& key_path, const std::string& value,
                    const std::string& origin);

}  // namespace sf
