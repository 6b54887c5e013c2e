// sf-test-cache-entry: writes one real, signed cache entry into a local layer's directory, made the
// way the tests make theirs (test::make_entry: a small staged tree packed by pack_cache_entry and
// its manifest signed by GpgSigner), for scripts that exercise the CLI without a Slurm build
// (tests/sdk_cache_example.sh).
//
//   sf-test-cache-entry GNUPG_HOME FINGERPRINT LAYER_DIR NAME HASH_CHAR
//
// The entry is debian-bookworm/x86_64/NAME-1.0-<HASH_CHAR x 12>; its tarball, manifest and
// signature are written under LAYER_DIR at their keys. Prints the entry's key (without suffix).
#include <filesystem>
#include <iostream>
#include <string>

#include "cache_fixture.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 6 || std::string(argv[5]).size() != 1) {
    std::cerr << "usage: sf-test-cache-entry GNUPG_HOME FINGERPRINT LAYER_DIR NAME HASH_CHAR\n";
    return 2;
  }
  try {
    const sf::GpgSigner signer(sf::GpgSignerOptions{argv[1], argv[2], {}, {}, {}, {}, {}});
    const fs::path layer = argv[3];
    const auto key = sf::test::sample_key(argv[4], argv[5]);
    const sf::test::TempDir work("sf-entry");
    const auto files =
        sf::test::make_entry(work.path(), key, &signer, std::string("payload of ") + argv[4]);
    for (const auto& [from, k] :
         {std::pair{files.tarball, key.tarball()}, std::pair{files.manifest, key.manifest()},
          std::pair{files.signature, key.signature()}}) {
      fs::create_directories((layer / k).parent_path());
      fs::copy_file(from, layer / k, fs::copy_options::overwrite_existing);
    }
    std::cout << key.base() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "sf-test-cache-entry: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
