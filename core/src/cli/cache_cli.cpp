#include "cli/cache_cli.hpp"

#include <algorithm>
#include <ctime>
#include <system_error>

#include "cache/cache_entry.hpp"
#include "containers/hermetic_runner.hpp"
#include "formats/source_date_epoch.hpp"
#include "slurm_factory/errors.hpp"
#include "support/file_io.hpp"
#include "support/human_size.hpp"

namespace sf::cli {

Scratch::Scratch(const fs::path& cache_dir) {
  const fs::path base = scratch_root(cache_dir);
  remove_stale_temps(base, false);
  auto made = make_private_dir(base);
  if (!made) {
    throw CacheError(made.error().message, {{"folder", base.string()}},
                     "check that cache_dir is writable and has room");
  }
  path_ = *made;
}

Scratch::~Scratch() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

CacheChainRequest open_request(const LayerOptions& o, bool deep) {
  CacheChainRequest r;
  if (!o.local_cache.empty()) r.local_cache = o.local_cache;
  r.want_signer = false;  // nothing here signs: entries keep the signature they were made with
  r.deep = deep;
  return r;
}

}  // namespace

OpenCache::OpenCache(Invocation& inv, const LayerOptions& o, bool deep)
    : app(inv.global), setup(make_cache_chain(app, open_request(o, deep))) {}

std::string utc_time(std::int64_t t) { return t <= 0 ? std::string("-") : format_utc(t); }

std::string layer_names(const CacheChainSetup& setup) {
  std::string s;
  for (const auto& l : setup.layers) s += (s.empty() ? "" : ", ") + l.name + " (" + l.type + ")";
  return s.empty() ? "(none)" : s;
}

CacheProvider& named_layer(const CacheChainSetup& setup, const std::string& name) {
  CacheProvider* p = setup.chain->layer(name);
  if (p == nullptr) {
    throw UsageError("no cache layer named '" + name + "'", {{"layer", name}},
                     "configured layers: " + layer_names(setup) + " (cache.layers)");
  }
  return *p;
}

// The first layer of type local (the one gc and pull work on).
const CacheLayerSpec& local_layer_spec(const CacheChainSetup& setup) {
  for (const auto& l : setup.layers)
    if (l.type == "local") return l;
  throw ConfigurationError("no local cache layer is configured", {{"key", "cache.layers"}},
                           "add a layer with type: local, or pass --local-cache DIR");
}

std::vector<CacheProvider*> selected_layers(const CacheChainSetup& setup, const std::string& name) {
  if (!name.empty()) return {&named_layer(setup, name)};
  return setup.chain->layers();
}

// parse_command for a command that takes one positional argument, `name` (shown as VALUE_NAME
// in --help, stored in `value`), besides `opts`.
std::optional<po::variables_map> parse_with_argument(Invocation& inv, const CommandSpec& spec,
                                                     const po::options_description& opts,
                                                     const char* name, const char* value_name,
                                                     const char* help, std::string& value) {
  po::options_description hidden;
  hidden.add_options()(name, po::value(&value)->value_name(value_name), help);
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add(name, 1);
  return parse_command(inv, spec, all, pos);
}

// The complete entries (with a manifest) of a layer, by key base.
Expected<std::vector<CacheGcEntry>> entries_of(CacheProvider& layer) {
  auto objects = layer.list("");
  if (!objects) return objects.error();
  std::vector<CacheGcEntry> out;
  for (auto& e : group_cache_entries(*objects))
    if (e.complete && CacheEntryKey::parse(e.base + ".manifest.json")) out.push_back(std::move(e));
  return out;
}

std::vector<CacheGcEntry> entries_or_throw(CacheProvider& layer) {
  auto e = entries_of(layer);
  if (!e) {
    throw CacheError("cannot list cache layer '" + layer.name() + "': " + e.error().message,
                     {{"layer", layer.name()}, {"location", layer.location()}},
                     "check the layer's url and credentials (slurm-factory config show cache)");
  }
  return *e;
}

// The entries of `l`; when it cannot be listed: throws if `strict` (the layer was named), else
// warns on stderr (adding `consequence`) and returns nothing.
std::optional<std::vector<CacheGcEntry>> entries_or_warn(Invocation& inv, CacheProvider& l,
                                                         bool strict,
                                                         const std::string& consequence) {
  auto entries = entries_of(l);
  if (entries) return std::move(*entries);
  if (strict) entries_or_throw(l);
  inv.err << "warning: cannot list layer '" << l.name() << "' (" << l.location() << ")"
          << consequence << ": " << entries.error().message << "\n";
  return std::nullopt;
}

bool is_signed(const CacheGcEntry& e) {
  return std::any_of(e.keys.begin(), e.keys.end(), [](const std::string& k) {
    return k.size() > 4 && k.compare(k.size() - 4, 4, ".asc") == 0;
  });
}

// "<base>.tar.zst" / ".manifest.json" / ".manifest.json.asc" -> "<base>"; anything else as is.
std::string strip_entry_suffix(std::string key) {
  for (const char* suffix : {".manifest.json.asc", ".manifest.json", ".tar.zst"}) {
    const std::string s = suffix;
    if (key.size() > s.size() && key.compare(key.size() - s.size(), s.size(), s) == 0) {
      key.resize(key.size() - s.size());
      break;
    }
  }
  return key;
}

// Picks the entries named by `wanted` (a key with or without suffix, or an unambiguous part of
// one) from `available`.
std::vector<CacheGcEntry> select_entries(const std::vector<CacheGcEntry>& available,
                                         const std::string& wanted, const std::string& where) {
  const std::string base = strip_entry_suffix(wanted);
  std::vector<CacheGcEntry> hits;
  for (const auto& e : available)
    if (e.base == base) return {e};
  for (const auto& e : available)
    if (e.base.find(base) != std::string::npos) hits.push_back(e);
  if (hits.empty()) {
    throw CacheError("no cache entry matches '" + wanted + "' in " + where, {{"entry", wanted}},
                     "list the entries with: slurm-factory cache list");
  }
  if (hits.size() > 1) {
    std::string names;
    for (const auto& h : hits) names += "\n  " + h.base;
    throw UsageError("'" + wanted + "' matches " + std::to_string(hits.size()) + " entries in " +
                         where + ":" + names,
                     {{"entry", wanted}},
                     "give the whole key (<toolchain>/<arch>/<name>-<version>-<hash12>)");
  }
  return hits;
}

int report_copies(Invocation& inv, const std::vector<CopyOutcome>& outcomes, const char* verb) {
  std::size_t copied = 0, present = 0, bad = 0;
  std::uint64_t bytes = 0;
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& o : outcomes) {
    if (o.status == "copied") {
      ++copied;
      bytes += o.size;
    } else if (o.status == "present") {
      ++present;
    } else {
      ++bad;
    }
    arr.push_back({{"key", o.key},
                   {"from", o.from},
                   {"to", o.to},
                   {"status", o.status},
                   {"reason", o.reason},
                   {"size", o.size}});
    if (inv.global.json) continue;
    if (o.status == "copied" && !inv.global.quiet) {
      inv.out << verb << " " << o.key << " " << o.from << " -> " << o.to << " ("
              << human_size(o.size) << ")\n";
    } else if (o.status == "present" && inv.global.verbosity > 0) {
      inv.out << "already in " << o.to << ": " << o.key << "\n";
    } else if (o.status == "refused" || o.status == "failed") {
      inv.err << o.status << ": " << o.key << " " << o.from << " -> " << o.to << ": " << o.reason
              << "\n";
    }
  }
  if (inv.global.json) {
    inv.out << nlohmann::json{{"copied", copied},
                              {"present", present},
                              {"failed", bad},
                              {"bytes", bytes},
                              {"entries", arr}}
                   .dump()
            << "\n";
  } else if (!inv.global.quiet) {
    inv.out << copied << " " << verb << " (" << human_size(bytes) << "), " << present
            << " already there, " << bad << " refused or failed\n";
  }
  if (bad > 0) {
    throw CacheError(std::to_string(bad) + " of " + std::to_string(outcomes.size()) +
                         " cache entries were not " + verb,
                     {},
                     "see the lines above: a refused entry failed verification (cache verify "
                     "--layer NAME), a failed one could not be read or written");
  }
  return 0;
}

}  // namespace sf::cli
