// Timing helper for tests/bench/cache.sh: runs one cache operation the way the tool does and prints
// "SECONDS BYTES". Modes:
//   s3-put ENDPOINT BUCKET/PREFIX KEY FILE [SETTINGS_JSON]   the s3 provider plugin's put
//                                            (multipart above 64 MiB unless SETTINGS_JSON says)
//   s3-get ENDPOINT BUCKET/PREFIX KEY FILE   the s3 provider plugin's get
//   pack TREE OUTDIR                          pack_cache_entry (tar + zstd threads, every sha256,
//                                             the manifest's detached gpg signature)
//   unpack OUTDIR DEST                        unpack_cache_entry (signature and manifest checks,
//                                             then one pass: the tarball's sha256 while it is
//                                             safely extracted, every file's sha256 before it is
//                                             accepted)
// pack and unpack sign and verify as the tool does, with the key SF_BENCH_KEY (a fingerprint) of
// the keyring SF_BENCH_GNUPG (tests/bench/cache.sh makes a throwaway one); both are required.
//   archive TREE FILE / extract FILE DEST     the bare archive writer / reader (no manifest)
// Credentials for s3 come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as for the tool.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "cache/cache_entry.hpp"
#include "formats/archive_reader.hpp"
#include "plugin_host/plugin_host.hpp"
#include "signing/gpg_signer.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/archive_writer.hpp"

namespace fs = std::filesystem;

namespace {

const sf::CacheEntryKey kKey{"bench", "x86_64", "tree", "1.0", std::string(64, 'b')};

int fail(const std::string& what) {
  std::cerr << "cache_bench: " << what << "\n";
  return 1;
}

// The bench's signing key: keyring and fingerprint from the environment (never an argument).
struct BenchKey {
  std::string gnupg_home;
  std::string fingerprint;
};
BenchKey bench_key() {
  const char* home = std::getenv("SF_BENCH_GNUPG");
  const char* fpr = std::getenv("SF_BENCH_KEY");
  if (home == nullptr || fpr == nullptr || *home == '\0' || *fpr == '\0')
    throw std::runtime_error(
        "pack and unpack measure the signed path: set SF_BENCH_GNUPG (a keyring) and SF_BENCH_KEY "
        "(the fingerprint of its signing key); tests/bench/cache.sh does");
  return {home, fpr};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return fail("usage: see the comment at the top of tests/bench/cache_bench.cpp");
  const std::string mode = argv[1];
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  try {
    if (mode == "s3-put" || mode == "s3-get") {
      if (argc != 6 && argc != 7) return fail(mode + " ENDPOINT BUCKET/PREFIX KEY FILE [JSON]");
      sf::PluginHost host;
      host.load_file(fs::path(SF_BENCH_PLUGIN_DIR) / "libsf-cache-s3.so");
      sf::CacheLayerSpec spec{"bench-s3",
                              "s3",
                              std::string("s3://") + argv[3],
                              true,
                              {{"endpoint", argv[2]}, {"region", "us-east-1"}}};
      if (argc == 7) spec.settings.update(nlohmann::json::parse(argv[6]));
      auto layer = host.make_cache_provider(spec);
      const fs::path file = argv[5];
      const auto t0 = Clock::now();
      auto r = mode == "s3-put" ? layer->put(argv[4], file) : layer->get(argv[4], file);
      const double s = seconds(t0);
      if (!r) return fail(r.error().message);
      std::cout << s << " " << fs::file_size(file) << "\n";
    } else if (mode == "pack") {
      sf::CacheManifest m;
      m.name = kKey.name;
      m.version = kKey.version;
      m.hash = kKey.hash;
      m.toolchain = kKey.toolchain;
      m.arch = kKey.arch;
      const BenchKey key = bench_key();
      sf::GpgSignerOptions so;
      so.gnupg_home = key.gnupg_home;
      so.key_id = key.fingerprint;
      const sf::GpgSigner signer(so);
      const auto t0 = Clock::now();
      auto files = sf::pack_cache_entry(argv[2], m, argv[3], &signer);
      const double s = seconds(t0);
      if (!files) return fail(files.error().message);
      std::cout << s << " " << fs::file_size(files->tarball) << "\n";
    } else if (mode == "unpack") {
      const BenchKey key = bench_key();
      const sf::GpgVerifier verifier(sf::GpgTrust{key.gnupg_home, {key.fingerprint}});
      sf::EntryTrustPolicy policy;
      policy.verifier = &verifier;
      policy.allow_unsigned = false;  // signed entries only: the path a build takes
      const auto files = sf::CacheEntryFiles::under(argv[2], kKey);
      const auto t0 = Clock::now();
      auto m = sf::unpack_cache_entry(files, policy, argv[3]);
      const double s = seconds(t0);
      if (!m) return fail(m.error().message);
      std::cout << s << " " << fs::file_size(files.tarball) << "\n";
    } else if (mode == "archive") {
      const auto t0 = Clock::now();
      auto r = sf::write_archive(argv[2], argv[3]);
      const double s = seconds(t0);
      if (!r) return fail(r.error().message);
      std::cout << s << " " << fs::file_size(argv[3]) << "\n";
    } else if (mode == "extract") {
      const auto t0 = Clock::now();
      auto r = sf::extract_archive(argv[2], argv[3]);
      const double s = seconds(t0);
      if (!r) return fail(r.error().message);
      std::cout << s << " " << r->bytes << "\n";
    } else {
      return fail("unknown mode " + mode);
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 0;
}
