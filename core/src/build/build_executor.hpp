// The build executor: for each package of a plan, in dependency order, that no cache layer holds,
// a fresh hermetic container from the toolchain image (network off, as the unprivileged builder)
// with its source archive mounted read-only and only its dependencies' staged trees (unpacked from
// their cache entries) mounted read-only at the canonical prefix. The build system's script
// (templates/build/common.sh + <system>.sh) unpacks, patches, configures, builds and installs with
// DESTDIR; then relocation (relocation.hpp) runs patchelf/objcopy in a second container, the .la
// files go, the host checks every RUNPATH, and the staged tree is packed as a cache entry
// (cache_entry.hpp) and written through the cache chain, so a rerun fetches instead of building.
// Independent packages build concurrently (`parallel`). Logs go to <cache>/logs/<build-id>/; a
// failure is a BuildError naming the package and step, with the last 40 log lines and a debug
// bundle (full log, config.log, the generated script, and a command that reruns the step).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/cache_manifest.hpp"
#include "recipes/planner.hpp"
#include "slurm_factory/container_backend.hpp"
#include "slurm_factory/expected.hpp"

namespace sf {

class CacheChain;
class GpgSigner;
struct CacheEntryFiles;

// The GNU triplets of a cross build.
struct CrossTriplets {
  std::string host;   // the target's GNU triplet: "aarch64-linux-gnu"
  std::string build;  // the image's: "x86_64-linux-gnu"
};

struct BuildExecutorOptions {
  std::filesystem::path cache_dir;         // logs/, work/, debug/ and sourcecache/ live here
  std::string image;                       // the prepared toolchain image tag
  std::string backend_command = "docker";  // CLI used in the debug bundle's rerun command
  int jobs = 0;                            // make -j per build; 0 = the host's CPU count
  int parallel = 1;                        // packages built at once
  double cpus = 0;                         // container limits
  std::int64_t memory_bytes = 0;
  std::int64_t shm_bytes = 0;
  std::int64_t pids_limit = 4096;
  bool network = false;                  // build.network: network during the build step
  std::chrono::milliseconds timeout{0};  // per container run; 0 = none
  std::string build_id;                  // "" = a new one (UTC time + pid)
  std::filesystem::path templates_dir;   // "" = templates_dir()/build
  const GpgSigner* signer = nullptr;     // signs new entries (nullptr: unsigned)
  bool keep_work = false;                // keep work directories of successful builds
  bool split_debug = true;               // debug info into <cache>/debug/
  std::ostream* live = nullptr;          // build output echoed here (optional)
  // build.ccache: a compiler cache per toolchain image, <cache_dir>/ccache/<image hash> (0700),
  // mounted read-write at kCcacheTarget in every build container of that image; not part of any
  // package hash (ccache keys on the preprocessed source, the compiler and its flags).
  bool ccache = true;
  std::int64_t ccache_max_bytes = 5LL << 30;  // build.ccache_max_size (CCACHE_MAXSIZE)
  // build.incremental: a recipe marked `incremental` reuses the build tree its last build on the
  // same image left (build_tree_store.hpp) when every input but the source is the same. Off for
  // --no-cache and `rebuild` (from scratch).
  bool incremental = true;
  // A cross build (the image runs on the host's architecture, the packages are the target's).
  std::optional<CrossTriplets> cross;
};

inline constexpr const char* kCcacheTarget = "/ccache";

// <cache_dir>/ccache/<image hash>: the compiler cache of the builds of one toolchain image. An
// image hash that is not plain hex (a stand-in) is hashed, so the folder name is always safe.
std::filesystem::path ccache_dir_for(const std::filesystem::path& cache_dir,
                                     const std::string& image_hash);

enum class PackageStatus { kBuilt, kCached, kSystem };
std::string to_string(PackageStatus s);

struct PackageOutcome {
  std::string name;
  std::string version;
  std::string hash;
  PackageStatus status = PackageStatus::kBuilt;
  std::string layer;                    // the cache layer a cached entry came from
  bool incremental = false;             // built over the build tree of its last build
  std::vector<std::string> written_to;  // layers a new entry was written to
  std::chrono::milliseconds elapsed{0};
  std::filesystem::path log_file;
  CacheEntryKey key;
  std::filesystem::path tarball;  // the verified entry on disk (this run's staging directory)
  std::string tarball_sha256;     // of that tarball, as verified or packed by this run
  // Reproducible builds: the SOURCE_DATE_EPOCH the entry was built with (source_date_epoch.hpp;
  // recorded in its manifest as arguments.source_date_epoch). nullopt for an entry made before.
  std::optional<std::int64_t> source_date_epoch;
};

// One step of the run, for the progress display and --json events.
struct BuildEvent {
  std::string kind;  // "start" (building), "cached", "built", "system"
  std::string package;
  std::string version;
  std::string hash12;
  std::size_t index = 0;  // 1-based position among the plan's source packages
  std::size_t total = 0;
  std::chrono::milliseconds elapsed{0};
  std::string detail;  // layer, log file, ...
};
using BuildEventSink = std::function<void(const BuildEvent&)>;

struct BuildReport {
  std::string build_id;
  std::filesystem::path log_dir;
  std::filesystem::path entries_dir;     // the plan's verified entries (tar.zst + manifests)
  std::vector<PackageOutcome> packages;  // in plan order
  std::size_t built() const;
  std::size_t cached() const;
};

// The cache-entry key of a planned package ("<family>-<release>/<arch>/<name>-<version>-<hash12>").
CacheEntryKey entry_key_for(const PackageSpec& spec);

// The script that builds `spec`: its variables, templates/build/common.sh and <system>.sh, and the
// call of sf_main. `jobs` replaces ${jobs}. `source_date_epoch` (reproducible builds) becomes
// SF_SOURCE_DATE_EPOCH, which common.sh exports as SOURCE_DATE_EPOCH. `cross` (a cross build)
// becomes SF_CROSS_HOST and SF_CROSS_BUILD, which common.sh turns into the cross tools.
std::string render_build_script(const PackageSpec& spec, const std::filesystem::path& templates,
                                const std::string& source_in_container, int jobs,
                                std::optional<std::int64_t> source_date_epoch = std::nullopt,
                                const std::optional<CrossTriplets>& cross = std::nullopt);

class BuildExecutor {
 public:
  using BackendFactory = std::function<std::unique_ptr<ContainerBackend>()>;
  // `make_backend` gives each worker its own connection. `chain` serves and stores entries.
  BuildExecutor(BackendFactory make_backend, CacheChain& chain, BuildExecutorOptions options);
  ~BuildExecutor();
  BuildExecutor(const BuildExecutor&) = delete;
  BuildExecutor& operator=(const BuildExecutor&) = delete;

  // Builds or fetches every source package of `plan` (system packages are in the image). Sources
  // must already be in <cache_dir>/sourcecache (SourceFetcher). Throws BuildError (a step failed:
  // package, step, last 40 lines, debug bundle), ContainerError or CacheError.
  BuildReport run(const Plan& plan, const BuildEventSink& events = {});

  // Extracts the entry of `outcome` (a source package of the last run's report) under
  // `destination` through the verifying unpack (unpack_cache_entry: signature, manifest, the
  // tarball's sha256 and every extracted file against the manifest; nothing left behind on a
  // mismatch) and checks that it is the entry the run verified or built (its tarball sha256), so
  // an entry changed on disk since is refused. An entry the run built unsigned (no signer) needs
  // no signature.
  Expected<void> unpack_entry(const PackageOutcome& outcome,
                              const std::filesystem::path& destination);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sf
