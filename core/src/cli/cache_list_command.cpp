// `slurm-factory cache list`: the entries of the cache layers.
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/cache_cli.hpp"
#include "slurm_factory/errors.hpp"
#include "support/human_size.hpp"
#include "support/text_table.hpp"

namespace sf::cli {

int cache_list(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache list [--layer NAME] [options]",
      "Lists the entries of every cache layer (or one): key, size, last use (local layers record\n"
      "every read) and whether a signature is stored beside the manifest. Nothing is verified\n"
      "here; use `cache verify` for that.",
      "  slurm-factory cache list\n  slurm-factory cache list --layer site-s3 --json\n"};
  LayerOptions lo;
  po::options_description opts("Options");
  lo.add_to(opts);
  if (!parse_command(inv, spec, opts)) return 0;
  OpenCache cache(inv, lo);
  nlohmann::json arr = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (CacheProvider* l : selected_layers(cache.setup, lo.layer)) {
    auto entries = entries_or_warn(inv, *l, !lo.layer.empty());
    if (!entries) continue;
    for (const auto& e : *entries) {
      const auto key = CacheEntryKey::parse(e.base + ".manifest.json");
      arr.push_back({{"layer", l->name()},
                     {"key", e.base},
                     {"toolchain", key->toolchain},
                     {"arch", key->arch},
                     {"name", key->name},
                     {"version", key->version},
                     {"hash12", key->hash},
                     {"size", e.size},
                     {"last_use", utc_time(e.last_use)},
                     {"signed", is_signed(e)}});
      rows.push_back({l->name(), e.base, human_size(e.size), utc_time(e.last_use),
                      is_signed(e) ? "yes" : "no"});
    }
  }
  if (inv.global.json) {
    inv.out << arr.dump() << "\n";
    return 0;
  }
  const std::vector<std::string> header{"LAYER", "ENTRY", "SIZE", "LAST USE", "SIGNED"};
  for (const auto& l : format_table(header, rows)) inv.out << l << "\n";
  if (!inv.global.quiet) inv.out << rows.size() << " entries\n";
  return 0;
}

}  // namespace sf::cli
