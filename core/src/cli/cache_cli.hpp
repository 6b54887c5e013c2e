// What the `cache` commands share (cli/cache_*_commands.cpp): scratch folders, the --layer and
// --local-cache options, the opened cache chain, picking layers and entries, and reporting copies.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "cache/cache_chain_factory.hpp"
#include "cache/cache_gc.hpp"
#include "cache/entry_copy.hpp"
#include "cli/command.hpp"
#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/expected.hpp"

namespace sf::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

// A private scratch folder for downloads (mkdtemp, 0700, under <cache_dir>/tmp: the same file
// system as the local layer), removed at the end of the command; stale ones of killed commands are
// removed first.
class Scratch {
 public:
  explicit Scratch(const fs::path& cache_dir);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const fs::path& path() const { return path_; }
  static fs::path scratch_root(const fs::path& cache_dir) { return cache_dir / "tmp"; }

 private:
  fs::path path_;
};

// The options the cache commands share: --layer NAME (where the command takes one) and
// --local-cache DIR.
struct LayerOptions {
  std::string layer;        // "" = every layer (or the command's default)
  std::string local_cache;  // "" = the configured local layer

  void add_to(po::options_description& opts, const char* layer_help = "only this layer") {
    if (layer_help != nullptr)
      opts.add_options()("layer", po::value(&layer)->value_name("NAME"), layer_help);
    opts.add_options()("local-cache", po::value(&local_cache)->value_name("DIR"),
                       "use DIR as the local cache layer (replaces the url of the 'local' layer)");
  }
};

// The App and the cache chain it configures, for one command (the chain's providers come from the
// App's plugins, so the App lives as long as they do).
struct OpenCache {
  App app;
  CacheChainSetup setup;

  OpenCache(Invocation& inv, const LayerOptions& o, bool deep = false);
};

// Seconds since the epoch as 2026-12-06T03:25:46Z; "-" for 0 (never).
std::string utc_time(std::int64_t t);

// "local (local), site-s3 (s3)" for messages; "(none)" without layers.
std::string layer_names(const CacheChainSetup& setup);

// The layer `name`; UsageError listing the configured ones when there is none.
CacheProvider& named_layer(const CacheChainSetup& setup, const std::string& name);

// The first layer of type local (the one gc and pull work on).
const CacheLayerSpec& local_layer_spec(const CacheChainSetup& setup);

// The layer `name`, or every layer when `name` is empty.
std::vector<CacheProvider*> selected_layers(const CacheChainSetup& setup, const std::string& name);

// parse_command for a command that takes one positional argument, `name` (shown as VALUE_NAME
// in --help, stored in `value`), besides `opts`.
std::optional<po::variables_map> parse_with_argument(Invocation& inv, const CommandSpec& spec,
                                                     const po::options_description& opts,
                                                     const char* name, const char* value_name,
                                                     const char* help, std::string& value);

// The complete entries (with a manifest) of a layer, by key base.
Expected<std::vector<CacheGcEntry>> entries_of(CacheProvider& layer);

// entries_of, or CacheError naming the layer and where it is.
std::vector<CacheGcEntry> entries_or_throw(CacheProvider& layer);

// The entries of `l`; when it cannot be listed: throws if `strict` (the layer was named), else
// warns on stderr (adding `consequence`) and returns nothing.
std::optional<std::vector<CacheGcEntry>> entries_or_warn(Invocation& inv, CacheProvider& l,
                                                         bool strict,
                                                         const std::string& consequence = "");

// Whether the entry has a signature (.asc) beside its manifest.
bool is_signed(const CacheGcEntry& e);

// "<base>.tar.zst" / ".manifest.json" / ".manifest.json.asc" -> "<base>"; anything else as is.
std::string strip_entry_suffix(std::string key);

// Picks the entries named by `wanted` (a key with or without suffix, or an unambiguous part of
// one) from `available`.
std::vector<CacheGcEntry> select_entries(const std::vector<CacheGcEntry>& available,
                                         const std::string& wanted, const std::string& where);

// Prints what push / pull copied (or --json), and throws CacheError when any entry was refused
// or failed.
int report_copies(Invocation& inv, const std::vector<CopyOutcome>& outcomes, const char* verb);

// The commands, one file each (registered in cache_commands.cpp).
int cache_list(Invocation& inv);
int cache_transfer(Invocation& inv, bool push);
int cache_verify(Invocation& inv);
int cache_gc(Invocation& inv);
int cache_index(Invocation& inv);
int keys_export(Invocation& inv);
int keys_import(Invocation& inv);
int keys_trust(Invocation& inv);

}  // namespace sf::cli
