// One package of a plan, for the build executor (build_executor.hpp): a cache hit, or a hermetic
// build (its inputs' entries unpacked read-only at the prefix, the source mounted read-only, the
// build script in a fresh container, relocation in a second one, the staged tree checked on the
// host), packed as a cache entry and stored through the chain. Every entry of the run is pinned by
// its tarball's sha256 and unpacked only through the verifying unpack.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "build/build_executor.hpp"
#include "cache/cache_entry.hpp"
#include "containers/hermetic_runner.hpp"

namespace sf {

struct PackageBuilder {
  PackageBuilder(CacheChain& c, BuildExecutorOptions o) : chain(c), options(std::move(o)) {}

  CacheChain& chain;
  BuildExecutorOptions options;

  // Per run (set by the executor before the first package).
  const Plan* plan = nullptr;
  std::filesystem::path log_dir;
  std::filesystem::path work_root;
  std::filesystem::path entries_dir;
  std::mutex mutex;  // guards the chain, `entries`, the event sink and the outcomes
  // An entry of this run: fetched and verified (chain.get) or built and packed here; its
  // tarball's sha256 pins it from then on.
  struct KnownEntry {
    CacheEntryFiles files;
    std::string tarball_sha256;
    bool built = false;
  };
  std::map<std::string, KnownEntry> entries;

  // A cache hit, or nullopt.
  std::optional<PackageOutcome> fetch(const PackageSpec& spec);
  // Builds `spec` in containers of `backend`; its inputs must be entries of this run. Throws
  // BuildError (with a debug bundle for a failed step), ContainerError or CacheError.
  PackageOutcome build(const PackageSpec& spec, ContainerBackend& backend);
  // Extracts the entry of `name` (of this run) under `destination`, verified and checked to be
  // the very entry this run verified or built.
  Expected<void> unpack_entry(const std::string& name, const std::filesystem::path& destination);

 private:
  std::filesystem::path templates() const;
  int jobs() const;
  HermeticRunSpec run_spec(const PackageSpec& spec, const std::filesystem::path& work,
                           const std::filesystem::path& deps, const std::vector<Mount>& extra,
                           const std::filesystem::path& log, const std::string& stage) const;
  void add_ccache(const PackageSpec& spec, HermeticRunSpec& run) const;
  Expected<void> unpack_known(const std::string& name, const KnownEntry& known,
                              const std::filesystem::path& destination) const;
  // Check the staged tree before the host reads it (package_relocation.cpp).
  void check_stage(const PackageSpec& spec, const std::filesystem::path& work,
                   const std::string& step, const std::filesystem::path& log) const;
  void unpack_inputs(const PackageSpec& spec, const std::filesystem::path& deps);
  // Relocation of the staged tree in a second container (package_relocation.cpp); returns the
  // debug tree ("": none).
  std::filesystem::path relocate(const PackageSpec& spec, const std::filesystem::path& work,
                                 const std::filesystem::path& deps, const std::vector<Mount>& extra,
                                 const std::filesystem::path& build_log,
                                 const std::filesystem::path& bundle, ContainerBackend& backend);
  // The staged `tree` packed, signed and written through the chain; the debug info kept.
  void store(const PackageSpec& spec, const std::filesystem::path& tree,
             const std::filesystem::path& debug_tree, PackageOutcome& out);
};

// The staged tree of `spec` in its work folder: work/stage/<prefix>.
std::filesystem::path staged_tree(const std::filesystem::path& work, const PackageSpec& spec);

}  // namespace sf
