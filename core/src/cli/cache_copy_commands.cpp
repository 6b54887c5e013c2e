// `slurm-factory cache push` and `cache pull`: verified entries copied between layers.
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/cache_cli.hpp"
#include "slurm_factory/errors.hpp"

namespace sf::cli {

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

}  // namespace sf::cli
