// `slurm-factory cache ...`: list, push, pull, verify, gc and index the binary-cache layers, and
// export / import / trust signing keys. Every entry that crosses layers is verified first
// (signature against the configured trust anchor, tarball sha256 and size, manifest names its key).
// One file per command (cli/cache_*_command(s).cpp), what they share in cli/cache_cli.hpp.
#include "cli/cache_cli.hpp"
#include "cli/command_groups.hpp"

namespace sf::cli {

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
