// `slurm-factory cache gc`: least recently used local entries removed.
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/cache_cli.hpp"
#include "containers/hermetic_runner.hpp"
#include "slurm_factory/errors.hpp"
#include "support/human_size.hpp"

namespace sf::cli {

int cache_gc(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache gc [options] (--older-than DAYS | --max-size SIZE) [--dry-run]",
      "Removes entries from the local cache layer, least recently used first (a local layer\n"
      "records every read): every entry unused for more than DAYS days, then more until the\n"
      "layer fits in SIZE (512m, 20g). Remote layers are never collected here: use the bucket's\n"
      "lifecycle rules. Leftovers of interrupted writes older than an hour go too, and what\n"
      "killed runs left (.sf-tmp-* temp files, work folders of builds that are gone). The\n"
      "per-<toolchain>/<arch> index is rebuilt afterwards when the layer has one.",
      "  slurm-factory cache gc --older-than 30\n"
      "  slurm-factory cache gc --max-size 20g --dry-run\n"};
  std::string max_size;
  LayerOptions lo;
  double days = -1;
  po::options_description opts("Options");
  opts.add_options()("older-than", po::value(&days)->value_name("DAYS"),
                     "remove entries unused for more than DAYS days (fractions allowed)")(
      "max-size", po::value(&max_size)->value_name("SIZE"),
      "then remove the least recently used until the layer fits (k, m, g)")(
      "dry-run", po::bool_switch(), "only print what would be removed");
  lo.add_to(opts, "the layer (default: the local one)");
  auto vm = parse_command(inv, spec, opts);
  if (!vm) return 0;
  CacheGcOptions go;
  go.dry_run = (*vm)["dry-run"].as<bool>();
  if (vm->count("older-than") != 0U) {
    if (days < 0)
      throw UsageError("--older-than needs a number of days >= 0",
                       {{"value", std::to_string(days)}}, "e.g. --older-than 30");
    go.older_than_seconds = static_cast<std::int64_t>(days * 86400.0);
  }
  if (!max_size.empty()) {
    try {
      const auto bytes = parse_byte_size(max_size);
      if (bytes < 0) throw UsageError("negative size", {}, "");
      go.max_size = static_cast<std::uint64_t>(bytes);
    } catch (const SlurmFactoryError& e) {
      throw UsageError(std::string("--max-size: ") + e.what(), {{"value", max_size}},
                       "write a size like 512m or 20g");
    }
  }
  if (!go.older_than_seconds && !go.max_size) {
    throw UsageError("cache gc needs --older-than DAYS or --max-size SIZE", {},
                     "slurm-factory cache gc --help");
  }
  OpenCache cache(inv, lo);
  const CacheChainSetup& setup = cache.setup;
  const CacheLayerSpec* spec_used =
      lo.layer.empty() ? &local_layer_spec(setup) : setup.spec(lo.layer);
  if (spec_used == nullptr) named_layer(setup, lo.layer);  // throws: unknown layer
  if (spec_used->type != "local") {
    throw CacheError("cache gc works on local layers only; '" + spec_used->name + "' is a " +
                         spec_used->type + " layer",
                     {{"layer", spec_used->name}, {"url", spec_used->url}},
                     "expire remote entries with the storage's own tools (S3 lifecycle rules), or "
                     "remove bad ones with: slurm-factory cache verify --remove --layer " +
                         spec_used->name);
  }
  CacheProvider& l = named_layer(setup, spec_used->name);
  std::size_t leftovers = 0;
  if (!go.dry_run) {
    // What killed runs left behind: temp files in the layer, scratch and work folders.
    const std::string url = spec_used->url;
    const fs::path root = url.rfind("file://", 0) == 0 ? fs::path(url.substr(7)) : fs::path(url);
    leftovers = sweep_interrupted_writes(cache.app.config().cache_dir, root);
  }
  auto result = run_cache_gc(l, go);
  if (!result) {
    throw CacheError(result.error().message, {{"layer", l.name()}, {"location", l.location()}},
                     "check the directory's permissions and free space");
  }
  if (!go.dry_run && !result->removed.empty()) {
    auto has_index = l.has("index.json");
    if (has_index && *has_index) {
      Scratch scratch(cache.app.config().cache_dir);
      if (auto r = rebuild_cache_index(l, scratch.path()); !r)
        inv.err << "warning: cannot rebuild the index: " << r.error().message << "\n";
    }
  }
  std::uint64_t freed = 0;
  for (const auto& e : result->removed) freed += e.size;
  if (inv.global.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& e : result->removed)
      arr.push_back({{"key", e.base},
                     {"size", e.size},
                     {"last_use", utc_time(e.last_use)},
                     {"complete", e.complete}});
    inv.out << nlohmann::json{{"layer", l.name()},
                              {"dry_run", go.dry_run},
                              {"removed", arr},
                              {"kept", result->kept},
                              {"leftovers_removed", leftovers},
                              {"size_before", result->size_before},
                              {"size_after", result->size_after}}
                   .dump()
            << "\n";
    return 0;
  }
  for (const auto& e : result->removed) {
    inv.out << (go.dry_run ? "would remove " : "removed ") << e.base
            << (e.complete ? "" : " (incomplete)") << "  " << human_size(e.size) << "  last use "
            << utc_time(e.last_use) << "\n";
  }
  if (!inv.global.quiet) {
    inv.out << (go.dry_run ? "would free " : "freed ") << human_size(freed) << " in "
            << result->removed.size() << " entries; " << result->kept << " kept ("
            << human_size(result->size_after) << ") in layer '" << l.name() << "' (" << l.location()
            << ")\n";
    if (leftovers > 0)
      inv.out << "removed " << leftovers << " leftover(s) of interrupted runs (temp files, work "
              << "folders)\n";
  }
  return 0;
}

}  // namespace sf::cli
