// `slurm-factory cache verify`: every entry re-checked as a build would before use.
#include <nlohmann/json.hpp>
#include <ostream>

#include "cache/entry_check.hpp"
#include "cli/cache_cli.hpp"
#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"

namespace sf::cli {

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
      const fs::path dir = scratch.path() / std::to_string(checked);
      const EntryCheck c = check_entry(*setup.chain, *l, e, dir, remove);
      const std::string& reason = c.reason;
      const bool proven_bad = c.proven_bad;
      const bool removed = c.removed;
      if (!reason.empty()) {
        ++bad;
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

}  // namespace sf::cli
