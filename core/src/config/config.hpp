// The merged configuration, lowest precedence first: embedded default (configs/default.yaml) <
// /etc/slurm-factory/config.yaml < ~/.config/slurm-factory/config.yaml < each --config FILE < the
// selected profile (--profile / SLURM_FACTORY_PROFILE; its overrides collected from all files) <
// environment (SLURM_FACTORY_CACHE_DIR, SLURM_FACTORY_PLUGIN_PATH) < CLI flags (apply_override).
// Every value remembers where it came from (for `config show`). Loading: config_loader.hpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slurm_factory/cache_provider.hpp"

namespace sf {

struct BuildLimits {
  int jobs = 0;     // parallel make jobs inside a build; 0 = number of CPUs
  double cpus = 0;  // container CPU limit; 0 = no limit
  std::string memory = "8g";
  std::string shm = "1g";
  int pids = 4096;
  bool network = false;  // network during compile (off: hermetic)
  bool ccache = true;    // compiler cache per toolchain image (<cache_dir>/ccache/<image hash>)
  std::string ccache_max_size = "5g";  // its size limit (CCACHE_MAXSIZE)
  // incremental rebuilds of recipes marked `incremental` (<cache_dir>/buildtrees/<image hash>/)
  bool incremental = true;
};

struct SigningSettings {
  std::string key_id;
  std::string keyring;  // GNUPGHOME to use; "" = default
  std::vector<std::string> trusted_fingerprints;
  std::string private_key_file;  // a path, never the key itself
  std::string private_key_env;   // the NAME of an environment variable
  std::string passphrase_file;
  std::string passphrase_env;  // the NAME of an environment variable
  bool require_signed = false;
  bool allow_unsigned = false;
};

// A site-defined toolchain release (pure YAML, bound to a family plugin).
struct SiteToolchain {
  std::string name;
  std::string family;
  YAML::Node definition;  // the release's mapping, marks intact for file:line:col errors
  std::string origin;     // "file.yaml:12:3"
};

// The settings of one toolchain family (`toolchain_families.<family>`), read by the core for that
// family's releases.
struct ToolchainFamilySettings {
  // Replaces the mirror of the bootstrap recipe of the family's releases (the offline base image,
  // e.g. debian: mmdebstrap from this mirror); "" = the release's own mirror.
  std::string mirror;
};

struct Config {
  std::filesystem::path cache_dir;  // SLURM_FACTORY_CACHE_DIR, default ~/.slurm-factory
  std::vector<std::filesystem::path> plugin_search_paths;
  std::vector<std::string> plugins;  // plugin names to load, e.g. "toolchain-debian"
  std::string default_backend = "docker";
  nlohmann::json backends = nlohmann::json::object();  // per-backend settings by name
  nlohmann::json packagers = nlohmann::json::object();  // per-packager settings by name
  std::vector<CacheLayerSpec> cache_layers;
  SigningSettings signing;
  BuildLimits build;
  std::vector<SiteToolchain> toolchains;
  std::map<std::string, ToolchainFamilySettings> toolchain_families;  // by family name
  std::string profile;                          // the selected profile, "" for none
  std::vector<std::string> available_profiles;  // every profile the config files define
  nlohmann::json pipelines = nlohmann::json::object();
  // key path ("cache.layers[0].url", "build.jobs") -> origin ("default", "/etc/...:4:3",
  // "env SLURM_FACTORY_CACHE_DIR", "--jobs"). Use origin_of() for a path without its own entry.
  std::map<std::string, std::string> origins;
  // The merged YAML tree the fields above were made from (load_config and apply_override keep it in
  // step; a field edited by hand is overwritten by the next apply_override).
  YAML::Node tree;
  std::filesystem::path home;  // $HOME at load time, for "~" in paths
  // What the loader warned about (deprecated keys, with their file:line and what to write instead);
  // load_config also logs each as a warning (stderr).
  std::vector<std::string> warnings;

  // The origin of `key_path`, or of its nearest ancestor that has one ("" when none).
  std::string origin_of(const std::string& key_path) const;
};

}  // namespace sf
