// `slurm-factory cache ...`: list, push, pull, verify, gc and index the binary-cache layers, and
// export / import / trust signing keys. Every entry that crosses layers is verified first
// (signature against the configured trust anchor, tarball sha256 and size, manifest names its key).
#include <gpgme.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "artifact/artifact_index_html.hpp"
#include "artifact/published_artifacts.hpp"
#include "cache/cache_chain_factory.hpp"
#include "cache/cache_gc.hpp"
#include "cli/command_groups.hpp"
#include "config/config_loader.hpp"
#include "containers/hermetic_runner.hpp"
#include "signing/gpgme_context.hpp"
#include "slurm_factory/errors.hpp"
#include "support/file_io.hpp"
#include "support/human_size.hpp"
#include "support/strings.hpp"
#include "support/text_table.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace sf::cli {
namespace {

// A private scratch folder for downloads (mkdtemp, 0700, under <cache_dir>/tmp: the same file
// system as the local layer), removed at the end of the command; stale ones of killed commands are
// removed first.
class Scratch {
 public:
  explicit Scratch(const fs::path& cache_dir) {
    const fs::path base = scratch_root(cache_dir);
    remove_stale_temps(base, false);
    auto made = make_private_dir(base);
    if (!made) {
      throw CacheError(made.error().message, {{"folder", base.string()}},
                       "check that cache_dir is writable and has room");
    }
    path_ = *made;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const fs::path& path() const { return path_; }
  static fs::path scratch_root(const fs::path& cache_dir) { return cache_dir / "tmp"; }

 private:
  fs::path path_;
};

std::string utc_time(std::int64_t t) {
  if (t <= 0) return "-";
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

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

  OpenCache(Invocation& inv, const LayerOptions& o, bool deep = false)
      : app(inv.global), setup(make_cache_chain(app, request(o, deep))) {}

 private:
  static CacheChainRequest request(const LayerOptions& o, bool deep) {
    CacheChainRequest r;
    if (!o.local_cache.empty()) r.local_cache = o.local_cache;
    r.want_signer = false;  // nothing here signs: entries keep the signature they were made with
    r.deep = deep;
    return r;
  }
};

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
                                                         const std::string& consequence = "") {
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

struct CopyOutcome {
  std::string key;
  std::string from;
  std::string to;
  std::string status;  // "copied", "present", "refused", "failed"
  std::string reason;
  std::uint64_t size = 0;
};

// Downloads `base` from `src`, verifies it, and writes it to `dst` (tarball, signature, manifest).
CopyOutcome copy_entry(CacheChain& chain, CacheProvider& src, CacheProvider& dst,
                       const CacheGcEntry& entry, const fs::path& scratch, bool force) {
  CopyOutcome o{entry.base, src.name(), dst.name(), "copied", "", entry.size};
  const auto key = CacheEntryKey::parse(entry.base + ".manifest.json");
  if (!force) {
    auto has = dst.has(key->manifest());
    if (has && *has) {
      o.status = "present";
      return o;
    }
  }
  const fs::path dir = scratch / std::to_string(std::hash<std::string>{}(entry.base));
  auto files = chain.fetch_from(src, *key, dir);
  if (!files) {
    o.status = "failed";
    o.reason = "download: " + files.error().message;
    return o;
  }
  auto manifest = verify_cache_entry(*files, chain.options().trust, *key);
  if (!manifest) {
    o.status = "refused";
    o.reason = manifest.error().message;
  } else if (auto r = chain.put_to(dst, *key, *files); !r) {
    o.status = "failed";
    o.reason = "upload: " + r.error().message;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return o;
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

// ---- list ---------------------------------------------------------------------------------------

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

// ---- push / pull --------------------------------------------------------------------------------

int cache_transfer(Invocation& inv, bool push) {
  const std::string cmd = push ? "push" : "pull";
  CommandSpec spec{
      "slurm-factory cache " + cmd + " [options] (KEY | --all) [--" + (push ? "to" : "from") +
          " LAYER]",
      push ? "Copies entries of the local layer to the writable remote layers (or the one given\n"
             "with --to). Each entry is verified before it is copied (signature against the\n"
             "configured trust, tarball sha256 and size); an entry that does not verify is not\n"
             "copied and the command exits non-zero. Entries already there are skipped.\n"
             "KEY is an entry key (<toolchain>/<arch>/<name>-<version>-<hash12>, with or without\n"
             "a suffix) or an unambiguous part of one."
           : "Copies entries of the remote layers (or the one given with --from; the first layer\n"
             "that has an entry wins) into the local layer. Each entry is verified before it is\n"
             "written (signature against the configured trust, tarball sha256 and size); one that\n"
             "does not verify is not written and the command exits non-zero. Entries already in\n"
             "the local layer are skipped. KEY is an entry key or an unambiguous part of one.",
      push ? "  slurm-factory cache push --all\n"
             "  slurm-factory cache push debian-bookworm/x86_64/slurm-24.11.1-0123456789ab --to "
             "site-s3\n"
           : "  slurm-factory cache pull --all\n  slurm-factory cache pull slurm-24.11 --from "
             "site-s3\n"};
  std::string key, other;
  LayerOptions lo;
  po::options_description opts("Options");
  opts.add_options()("all", po::bool_switch(), "every entry")(
      push ? "to" : "from", po::value(&other)->value_name("LAYER"),
      push ? "only to this layer" : "only from this layer")(
      "force", po::bool_switch(), "copy even when the destination already has the entry");
  lo.add_to(opts, nullptr);
  auto vm = parse_with_argument(inv, spec, opts, "key", "KEY",
                                "the entry (also the first argument)", key);
  if (!vm) return 0;
  const bool every = (*vm)["all"].as<bool>();
  const bool force = (*vm)["force"].as<bool>();
  if (every == !key.empty()) {
    throw UsageError("cache " + cmd + " needs either one KEY or --all", {},
                     "slurm-factory cache " + cmd + " --help");
  }
  OpenCache cache(inv, lo);
  const CacheChainSetup& setup = cache.setup;
  const CacheLayerSpec& local_spec = local_layer_spec(setup);
  CacheProvider& local = named_layer(setup, local_spec.name);
  std::vector<CacheProvider*> remotes;
  if (!other.empty()) {
    CacheProvider& o = named_layer(setup, other);
    if (&o == &local) {
      throw UsageError(
          "--" + std::string(push ? "to" : "from") + " names the local layer '" + other + "'",
          {{"layer", other}}, "name a remote layer");
    }
    remotes.push_back(&o);
  } else {
    for (CacheProvider* l : setup.chain->layers())
      if (l != &local && (!push || l->writable())) remotes.push_back(l);
  }
  if (push) {
    for (CacheProvider* r : remotes) {
      if (!r->writable()) {
        throw CacheError("cache layer '" + r->name() + "' is read-only", {{"layer", r->name()}},
                         "push to a writable layer (s3 or local); an http layer is read-only");
      }
    }
  }
  if (remotes.empty()) {
    throw ConfigurationError(
        std::string("no ") + (push ? "writable " : "") + "remote cache layer is configured",
        {{"key", "cache.layers"}, {"layers", layer_names(setup)}},
        "add an s3 or http layer to cache.layers (docs/cache-format.md)");
  }

  Scratch scratch(cache.app.config().cache_dir);
  std::vector<CopyOutcome> outcomes;
  if (push) {
    auto available = entries_or_throw(local);
    auto chosen =
        every ? available : select_entries(available, key, "layer '" + local.name() + "'");
    for (CacheProvider* r : remotes)
      for (const auto& e : chosen)
        outcomes.push_back(copy_entry(*setup.chain, local, *r, e, scratch.path(), force));
  } else {
    // The first remote that has an entry provides it.
    std::map<std::string, std::pair<CacheProvider*, CacheGcEntry>> wanted;
    for (CacheProvider* r : remotes) {
      auto listed = entries_or_warn(inv, *r, !other.empty());
      if (!listed) continue;
      std::vector<CacheGcEntry> chosen = *listed;
      if (!every) {
        chosen.clear();
        for (const auto& e : *listed)
          if (e.base.find(strip_entry_suffix(key)) != std::string::npos) chosen.push_back(e);
      }
      for (auto& e : chosen) wanted.emplace(e.base, std::make_pair(r, e));
    }
    if (!every) {
      std::vector<CacheGcEntry> all_found;
      for (const auto& [base, v] : wanted) all_found.push_back(v.second);
      auto one = select_entries(all_found, key, "the remote layers");
      auto it = wanted.find(one.front().base);
      outcomes.push_back(copy_entry(*setup.chain, *it->second.first, local, it->second.second,
                                    scratch.path(), force));
    } else {
      for (const auto& [base, v] : wanted)
        outcomes.push_back(
            copy_entry(*setup.chain, *v.first, local, v.second, scratch.path(), force));
    }
  }
  return report_copies(inv, outcomes, push ? "pushed" : "pulled");
}

// ---- verify -------------------------------------------------------------------------------------

int cache_verify(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache verify [--layer NAME] [options]",
      "Downloads every entry of every layer (or one) and re-checks it as a build would before\n"
      "use, and more: the manifest's signature against the configured trust anchor\n"
      "(signing.keyring, signing.trusted_fingerprints; unsigned entries pass only with\n"
      "signing.allow_unsigned), the tarball's size and sha256, that the manifest names its key,\n"
      "and the sha256 of every file inside the tarball. Bad entries are listed with the reason;\n"
      "the exit code is non-zero (verification error, 11) when there is any. --remove deletes\n"
      "from writable layers the entries proven bad (a bad signature, a size or sha256 that\n"
      "differs from the signed manifest); an entry that could not be downloaded or whose signer\n"
      "is not trusted is reported and kept.",
      "  slurm-factory cache verify\n  slurm-factory cache verify --layer site-s3 --json\n"};
  LayerOptions lo;
  po::options_description opts("Options");
  lo.add_to(opts);
  opts.add_options()("remove", po::bool_switch(),
                     "remove entries proven bad (not merely untrusted) from writable layers");
  auto vm = parse_command(inv, spec, opts);
  if (!vm) return 0;
  const bool remove = (*vm)["remove"].as<bool>();
  const std::string& layer = lo.layer;
  OpenCache cache(inv, lo, /*deep=*/true);
  const CacheChainSetup& setup = cache.setup;
  Scratch scratch(cache.app.config().cache_dir);
  nlohmann::json arr = nlohmann::json::array();
  std::size_t checked = 0, bad = 0;
  std::vector<std::string> unreachable;
  for (CacheProvider* l : selected_layers(setup, layer)) {
    auto listed = entries_or_warn(inv, *l, !layer.empty(), ", its entries are not verified");
    if (!listed) {
      unreachable.push_back(l->name());
      continue;
    }
    for (const auto& e : *listed) {
      ++checked;
      const auto key = CacheEntryKey::parse(e.base + ".manifest.json");
      const fs::path dir = scratch.path() / std::to_string(checked);
      std::string reason;
      // Proven bad: the entry's own bytes contradict its signed manifest (a bad signature, a
      // tarball or file whose size or sha256 differs, a manifest naming another entry). A download
      // error or a signer outside the trust anchor proves nothing: such an entry is never removed.
      bool proven_bad = false;
      auto files = setup.chain->fetch_from(*l, *key, dir);
      if (!files) {
        reason = "cannot download: " + files.error().message;
      } else {
        auto m = verify_cache_entry(*files, setup.chain->options().trust, *key);
        if (!m) {
          reason = m.error().message;
          proven_bad = m.error().kind == Failure::Kind::kError;
        }
      }
      std::error_code ec;
      fs::remove_all(dir, ec);
      if (proven_bad && remove && l->writable()) {
        // Before removing, the verdict must hold on a second download (a body cut short by the
        // network is not a bad entry).
        const fs::path again = dir.string() + "-again";
        auto files2 = setup.chain->fetch_from(*l, *key, again);
        auto m2 = files2 ? verify_cache_entry(*files2, setup.chain->options().trust, *key)
                         : Expected<CacheManifest>(files2.error());
        proven_bad = !m2 && m2.error().kind == Failure::Kind::kError;
        if (!proven_bad) reason += " (not reproduced on a second download)";
        fs::remove_all(again, ec);
      }
      bool removed = false;
      if (!reason.empty()) {
        ++bad;
        if (remove && l->writable() && proven_bad) {
          removed = true;
          for (const auto& k : e.keys) {
            if (auto r = l->remove(k); !r && r.error().kind != Failure::Kind::kNotFound) {
              removed = false;
              reason += "; cannot remove " + k + ": " + r.error().message;
            }
          }
        } else if (remove && l->writable()) {
          reason += " (kept: not proven bad)";
        }
        if (!inv.global.json) {
          inv.out << "BAD  " << l->name() << "  " << e.base << ": " << reason
                  << (removed ? " (removed)" : "") << "\n";
        }
      } else if (!inv.global.json && inv.global.verbosity > 0) {
        inv.out << "ok   " << l->name() << "  " << e.base << "\n";
      }
      arr.push_back({{"layer", l->name()},
                     {"key", e.base},
                     {"ok", reason.empty()},
                     {"proven_bad", proven_bad},
                     {"reason", reason},
                     {"removed", removed}});
    }
  }
  if (inv.global.json) {
    inv.out << nlohmann::json{{"checked", checked},
                              {"bad", bad},
                              {"unreachable", unreachable},
                              {"entries", arr}}
                   .dump()
            << "\n";
  } else if (!inv.global.quiet) {
    inv.out << checked << " entries checked, " << bad << " bad\n";
  }
  if (bad > 0) {
    throw VerificationError(
        std::to_string(bad) + " of " + std::to_string(checked) +
            " cache entries failed verification",
        {{"layers", layer.empty() ? layer_names(setup) : layer}},
        remove ? "the entries proven bad were removed from writable layers (rebuild or pull them "
                 "again); the others could not be downloaded or are not trusted: retry, or trust "
                 "their signer (slurm-factory cache keys import FILE)"
               : "remove them with: slurm-factory cache verify --remove" +
                     (layer.empty() ? std::string() : " --layer " + layer) +
                     " (or trust their signer: slurm-factory cache keys import FILE)");
  }
  if (!unreachable.empty()) {
    std::string names = join(unreachable, ", ");
    throw CacheError("could not verify cache layer(s) " + names + ": they cannot be listed",
                     {{"layers", names}, {"checked", std::to_string(checked)}},
                     "check the layers' urls and credentials, or verify one layer with --layer");
  }
  return 0;
}

// ---- gc -----------------------------------------------------------------------------------------

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

// ---- index --------------------------------------------------------------------------------------

// The layer `cache index --html` lists: the named one, else the only layer, else the only remote
// (non-local) one.
CacheProvider& html_index_layer(const CacheChainSetup& setup, const std::string& name) {
  if (!name.empty()) return named_layer(setup, name);
  if (setup.layers.size() == 1) return named_layer(setup, setup.layers.front().name);
  std::vector<const CacheLayerSpec*> remote;
  for (const auto& l : setup.layers)
    if (l.type != "local") remote.push_back(&l);
  if (remote.size() == 1) return named_layer(setup, remote.front()->name);
  throw UsageError("cache index --html lists one layer: name it with --layer NAME", {},
                   "configured layers: " + layer_names(setup));
}

// Where the page's links point: --base-url, else the layer's settings.public_url, else an http
// layer's url; "" = the keys themselves, relative to the page (upload it to the layer's root).
std::string html_index_base_url(const CacheChainSetup& setup, const CacheProvider& layer,
                                const std::string& base_url) {
  if (!base_url.empty()) return base_url;
  const CacheLayerSpec* spec = setup.spec(layer.name());
  if (spec == nullptr) return "";
  if (auto it = spec->settings.find("public_url");
      it != spec->settings.end() && it->is_string() && !it->get<std::string>().empty())
    return it->get<std::string>();
  if (spec->type == "http") return spec->url;
  return "";
}

int write_html_index(Invocation& inv, const fs::path& cache_dir, const CacheChainSetup& setup,
                     const std::string& layer, const std::string& dir, const std::string& base_url,
                     const std::string& title) {
  CacheProvider& l = html_index_layer(setup, layer);
  Scratch scratch(cache_dir);
  auto scan = find_published_artifacts(l, scratch.path());
  if (!scan) {
    throw CacheError("cannot list cache layer '" + l.name() + "': " + scan.error().message,
                     {{"layer", l.name()}, {"location", l.location()}},
                     "check the layer's url and credentials (slurm-factory config show cache)");
  }
  for (const auto& w : scan->warnings) inv.err << "warning: " << w << "\n";
  ArtifactIndexPage page;
  page.title = title;
  page.layer = l.name();
  page.location = l.location();
  page.base_url = html_index_base_url(setup, l, base_url);
  page.generated = utc_time(static_cast<std::int64_t>(std::time(nullptr)));
  const fs::path index = write_artifact_index(dir, page, scan->artifacts, TemplateRenderer());
  if (inv.global.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& a : scan->artifacts) {
      arr.push_back({{"key", a.artifact_key},
                     {"slurm_version", a.slurm_version},
                     {"toolchain", a.toolchain},
                     {"gpu", a.gpu},
                     {"arch", a.arch},
                     {"size", a.size},
                     {"created", a.created},
                     {"sha256", a.sha256},
                     {"href", artifact_href(page.base_url, a.artifact_key)}});
    }
    inv.out << nlohmann::json{{"layer", l.name()},
                              {"html", index.string()},
                              {"base_url", page.base_url},
                              {"artifacts", arr},
                              {"warnings", scan->warnings}}
                   .dump()
            << "\n";
  } else if (!inv.global.quiet) {
    inv.out << "wrote " << index.string() << ": " << scan->artifacts.size()
            << (scan->artifacts.size() == 1 ? " artifact" : " artifacts") << " of layer '"
            << l.name() << "' (" << l.location() << "), links "
            << (page.base_url.empty()
                    ? std::string("relative to the page (upload it to the layer's root)")
                    : "under " + page.base_url)
            << "\n";
  }
  return 0;
}

int cache_index(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache index [--layer NAME] [options]\n"
      "       slurm-factory cache index [--layer NAME] --html DIR [--base-url URL]",
      "Rebuilds <toolchain>/<arch>/index.json and the top index.json of every writable layer (or\n"
      "the one given) from the manifests stored there. The http layer lists only through these\n"
      "files, so run this on the layer a mirror is made from.\n"
      "With --html DIR, writes instead a static page for people, DIR/index.html + style.css\n"
      "(no script, works offline), listing the Slurm artifacts published to one layer\n"
      "(build-slurm --publish): version, toolchain, GPU, arch, size, date, sha256 and links to "
      "the\n"
      "artifact, its signatures, SHA256SUMS and provenance. Links go under --base-url, else the\n"
      "layer's settings.public_url, else an http layer's url, else they are the keys relative to\n"
      "the page (upload it to the layer's root). Nothing is verified for the page.",
      "  slurm-factory cache index\n  slurm-factory cache index --layer site-s3\n"
      "  slurm-factory cache index --layer site-s3 --html public/\n"
      "  slurm-factory cache index --layer site-s3 --html public/ --base-url "
      "https://builds.example.org/slurm\n"};
  LayerOptions lo;
  std::string html, base_url, title = "Slurm builds";
  po::options_description opts("Options");
  lo.add_to(opts);
  opts.add_options()("html", po::value(&html)->value_name("DIR"),
                     "write DIR/index.html listing the published artifacts of the layer")(
      "base-url", po::value(&base_url)->value_name("URL"),
      "with --html: links under URL (default: settings.public_url of the layer)")(
      "title", po::value(&title)->value_name("TEXT"), "with --html: the page title");
  if (!parse_command(inv, spec, opts)) return 0;
  if (html.empty() && (!base_url.empty() || title != "Slurm builds")) {
    throw UsageError("--base-url and --title go with --html DIR", {},
                     "slurm-factory cache index --layer NAME --html DIR --base-url URL");
  }
  OpenCache cache(inv, lo);
  if (!html.empty())
    return write_html_index(inv, cache.app.config().cache_dir, cache.setup, lo.layer, html,
                            base_url, title);
  Scratch scratch(cache.app.config().cache_dir);
  nlohmann::json arr = nlohmann::json::array();
  for (CacheProvider* l : selected_layers(cache.setup, lo.layer)) {
    if (!l->writable()) {
      if (!lo.layer.empty()) {
        throw CacheError("cache layer '" + l->name() + "' is read-only", {{"layer", l->name()}},
                         "build the index on the writable layer the mirror is copied from");
      }
      continue;
    }
    auto n = rebuild_cache_index(*l, scratch.path());
    if (!n) {
      throw CacheError(
          "cannot rebuild the index of layer '" + l->name() + "': " + n.error().message,
          {{"layer", l->name()}, {"location", l->location()}},
          "check the layer's url, credentials and permissions");
    }
    arr.push_back({{"layer", l->name()}, {"entries", *n}});
    if (!inv.global.json && !inv.global.quiet)
      inv.out << "indexed " << *n << " entries in layer '" << l->name() << "' (" << l->location()
              << ")\n";
  }
  if (inv.global.json) inv.out << arr.dump() << "\n";
  return 0;
}

// ---- keys ---------------------------------------------------------------------------------------

std::string normalized_fingerprint(const std::string& text) {
  std::string f;
  for (char c : text) {
    if (c == ' ') continue;
    f += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (f.rfind("0X", 0) == 0) f = f.substr(2);
  const bool hex = !f.empty() && std::all_of(f.begin(), f.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (!hex || (f.size() != 40 && f.size() != 64)) {
    throw UsageError(
        "'" + text + "' is not a key fingerprint (40 or 64 hex digits)", {{"fingerprint", text}},
        "show fingerprints with: gpg --fingerprint (or cache keys import prints them)");
  }
  return f;
}

int keys_export(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache keys export [--armor] [--output FILE] [KEYID]",
      "Writes the public key that verifies this site's cache entries and artifacts: KEYID from "
      "the\n"
      "keyring, else the signing key (signing.key_id, signing.private_key_file / private_key_env,\n"
      "the only secret key of signing.keyring, or the automatic local key in <cache_dir>/gnupg,\n"
      "made now if there is none yet). Binary OpenPGP; --armor for ASCII armor. Give the output "
      "to\n"
      "the other machines: cache keys import FILE. Exporting the automatic key marks it as the\n"
      "site's shared signer, so that it may write remote cache layers.",
      "  slurm-factory cache keys export --armor > site-cache.asc\n"
      "  slurm-factory cache keys export --output site-cache.gpg 0123ABCD...\n"};
  std::string id, output;
  po::options_description opts("Options");
  opts.add_options()("armor,a", po::bool_switch(), "ASCII armor")(
      "output,o", po::value(&output)->value_name("FILE"), "write to FILE instead of stdout");
  auto vm = parse_with_argument(inv, spec, opts, "keyid", "KEYID",
                                "the key (also the first argument)", id);
  if (!vm) return 0;
  const bool armor = (*vm)["armor"].as<bool>();
  App app(inv.global);
  const Config& config = app.config();
  const std::string keyring = trust_keyring(config);
  std::string pattern = id;
  if (pattern.empty()) {
    // The signing key itself (its public part is in the keyring, whatever it came from).
    auto signer = open_config_signer(config);
    pattern = signer->fingerprint();
    if (uses_automatic_key(config.signing)) mark_keyring_shared(keyring);
  }
  gpg::Context ctx(keyring);
  gpgme_set_armor(ctx.get(), armor ? 1 : 0);
  gpg::Data out;
  if (auto err = gpgme_op_export(ctx.get(), pattern.c_str(), 0, out.get()); err) {
    throw SigningError("cannot export keys: " + gpg::error_text(err), {{"keyring", keyring}},
                       "check signing.keyring");
  }
  const std::string bytes = out.str();
  if (bytes.empty()) {
    throw SigningError(
        "no public key matches '" + pattern + "'", {{"keyring", keyring}},
        "list the keys with: gpg --homedir " + keyring + " --list-keys; give a KEYID of that list");
  }
  if (output.empty()) {
    inv.out << bytes;
  } else {
    std::ofstream f(output, std::ios::binary | std::ios::trunc);
    f << bytes;
    if (!f) {
      throw UsageError("cannot write " + output, {{"file", output}},
                       "check the directory exists and is writable");
    }
    if (!inv.global.quiet) inv.err << "wrote " << output << "\n";
  }
  return 0;
}

int keys_import(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache keys import [options] FILE",
      "Imports the keys in FILE (armored or binary, as `cache keys export` writes them) into the\n"
      "keyring of the trust anchor (signing.keyring, else <cache_dir>/gnupg) and records them as\n"
      "trusted there, so that the entries and artifacts they signed verify. Nothing else in any\n"
      "keyring is trusted by being present.",
      "  slurm-factory cache keys import site-cache.asc\n"};
  std::string file;
  po::options_description opts("Options");
  if (!parse_with_argument(inv, spec, opts, "file", "FILE",
                           "the key file (also the first argument)", file))
    return 0;
  if (file.empty())
    throw UsageError("cache keys import needs FILE", {}, "slurm-factory cache keys import FILE");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UsageError("cannot read " + file, {{"file", file}}, "check the path");
  std::stringstream text;
  text << in.rdbuf();
  App app(inv.global);
  const std::string keyring = trust_keyring(app.config());
  GpgVerifier verifier(GpgTrust{keyring, {}, false});
  auto fprs = verifier.import_keys(text.str());
  if (!fprs) {
    throw SigningError(fprs.error().message, {{"file", file}, {"keyring", keyring}},
                       "give a file made by `cache keys export` or `gpg --export`");
  }
  std::set<std::string> unique(fprs->begin(), fprs->end());
  record_trusted_keys(keyring, {unique.begin(), unique.end()});
  if (inv.global.json) {
    inv.out << nlohmann::json{{"imported", unique}, {"keyring", keyring}, {"trusted", true}}.dump()
            << "\n";
    return 0;
  }
  for (const auto& f : unique) inv.out << "imported " << f << " (trusted in " << keyring << ")\n";
  return 0;
}

int keys_trust(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory cache keys trust [--write] FINGERPRINT",
      "Trusts FINGERPRINT: records it in the keyring of the trust anchor (signing.keyring, else\n"
      "<cache_dir>/gnupg) and prints the signing.trusted_fingerprints snippet to put into a "
      "config\n"
      "file (for other machines). With --write, also adds it to the user\n"
      "config file ($XDG_CONFIG_HOME/slurm-factory/config.yaml or\n"
      "~/.config/slurm-factory/config.yaml), keeping the previous file as config.yaml.bak; the\n"
      "file is re-emitted by yaml-cpp, so its comments are not kept. Warns when the key is not in\n"
      "signing.keyring (import it first, or entries it signed still do not verify).",
      "  slurm-factory cache keys trust 0123456789ABCDEF0123456789ABCDEF01234567\n"
      "  slurm-factory cache keys trust 0123456789ABCDEF0123456789ABCDEF01234567 --write\n"};
  std::string text;
  po::options_description opts("Options");
  opts.add_options()("write", po::bool_switch(), "change the user config file");
  auto vm = parse_with_argument(inv, spec, opts, "fingerprint", "FPR",
                                "the fingerprint (also the first argument)", text);
  if (!vm) return 0;
  if (text.empty())
    throw UsageError("cache keys trust needs FINGERPRINT", {},
                     "slurm-factory cache keys trust --help");
  const std::string fpr = normalized_fingerprint(text);
  App app(inv.global);
  const SigningSettings& sig = app.config().signing;
  const std::string keyring = trust_keyring(app.config());
  GpgVerifier verifier(GpgTrust{keyring, {}, false});
  if (!verifier.export_keys(fpr)) {
    inv.err << "warning: key " << fpr << " is not in " << keyring
            << "; import it (slurm-factory cache keys import FILE) or its entries will not "
               "verify\n";
  }
  // The site's explicit decision, recorded in the keyring of the trust anchor.
  record_trusted_keys(keyring, {fpr});
  if (!inv.global.quiet) inv.err << "trusted " << fpr << " in " << keyring << "\n";
  std::vector<std::string> list = sig.trusted_fingerprints;
  const bool already = std::find(list.begin(), list.end(), fpr) != list.end();
  if (!already) list.push_back(fpr);
  if (!(*vm)["write"].as<bool>()) {
    inv.out << "# add to a config file (e.g. "
            << user_config_file(ConfigSources::from_global(inv.global)).string()
            << "):\nsigning:\n  trusted_fingerprints:\n";
    for (const auto& f : list) inv.out << "    - " << f << "\n";
    return 0;
  }
  const fs::path file = user_config_file(ConfigSources::from_global(inv.global));
  if (file.empty()) {
    throw ConfigurationError(
        "no user config file: neither XDG_CONFIG_HOME nor HOME is set", {},
        "set HOME, or add the snippet printed without --write to a --config file");
  }
  YAML::Node root;
  std::error_code ec;
  if (fs::exists(file, ec)) {
    try {
      root = YAML::LoadFile(file.string());
    } catch (const YAML::Exception& e) {
      throw ConfigurationError("cannot parse " + file.string() + ": " + e.what(),
                               {{"file", file.string()}}, "fix the file, then run again");
    }
    fs::copy_file(file, file.string() + ".bak", fs::copy_options::overwrite_existing, ec);
  }
  if (!root.IsMap()) root = YAML::Node(YAML::NodeType::Map);
  YAML::Node trusted = root["signing"]["trusted_fingerprints"];
  bool present = false;
  if (trusted.IsSequence()) {
    for (const auto& n : trusted)
      if (n.as<std::string>() == fpr) present = true;
  }
  if (!present) root["signing"]["trusted_fingerprints"].push_back(fpr);
  fs::create_directories(file.parent_path(), ec);
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    YAML::Emitter em;
    em << root;
    out << em.c_str() << "\n";
    if (!out)
      throw ConfigurationError("cannot write " + tmp.string(), {{"file", tmp.string()}},
                               "check permissions");
  }
  fs::rename(tmp, file, ec);
  if (ec)
    throw ConfigurationError("cannot write " + file.string() + ": " + ec.message(),
                             {{"file", file.string()}}, "check permissions");
  inv.out << (present ? "already trusted in " : "trusted " + fpr + " in ") << file.string() << "\n";
  return 0;
}

}  // namespace

void add_cache_commands(CommandTable& table) {
  table.add({{"cache", "list"}, "list the entries of the cache layers", cache_list});
  table.add({{"cache", "push"},
             "copy verified local entries to the remote layers",
             [](Invocation& inv) { return cache_transfer(inv, true); }});
  table.add({{"cache", "pull"},
             "copy verified remote entries into the local layer",
             [](Invocation& inv) { return cache_transfer(inv, false); }});
  table.add({{"cache", "verify"}, "re-check signatures and sha256 of cache entries", cache_verify});
  table.add({{"cache", "gc"}, "remove least recently used local entries", cache_gc});
  table.add({{"cache", "index"},
             "rebuild a layer's index (--html: a page of its artifacts)",
             cache_index});
  table.add({{"cache", "keys", "export"}, "write the cache signing public key", keys_export});
  table.add(
      {{"cache", "keys", "import"}, "import public keys that sign cache entries", keys_import});
  table.add({{"cache", "keys", "trust"},
             "add a fingerprint to signing.trusted_fingerprints",
             keys_trust});
}

}  // namespace sf::cli
