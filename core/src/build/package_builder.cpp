// One package, for the build executor: a cache hit, or a hermetic build, packed and stored.
#include "build/package_builder.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "artifact/relocation.hpp"
#include "build/build_script.hpp"
#include "build/build_tree_store.hpp"
#include "build/debug_bundle.hpp"
#include "build/source_fetcher.hpp"
#include "cache/cache_chain.hpp"
#include "formats/source_date_epoch.hpp"
#include "recipes/package_hash.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/data_dir.hpp"
#include "support/safe_walk.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

constexpr std::size_t kTailLines = 40;
constexpr const char* kPackageLabel = "org.slurm-factory.package";

int host_jobs() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace

fs::path ccache_dir_for(const fs::path& cache_dir, const std::string& image_hash) {
  const bool hex = !image_hash.empty() && image_hash.size() <= 64 &&
                   std::all_of(image_hash.begin(), image_hash.end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                   });
  return cache_dir / "ccache" / (hex ? image_hash : sha256_hex(image_hash));
}

CacheEntryKey entry_key_for(const PackageSpec& spec) {
  return {spec.toolchain.family + "-" + spec.toolchain.release, spec.toolchain.arch, spec.name,
          spec.version, spec.hash};
}

fs::path PackageBuilder::templates() const {
  return options.templates_dir.empty() ? templates_dir() / "build" : options.templates_dir;
}

int PackageBuilder::jobs() const { return options.jobs > 0 ? options.jobs : host_jobs(); }

HermeticRunSpec PackageBuilder::run_spec(const PackageSpec& spec, const fs::path& work,
                                         const fs::path& deps, const std::vector<Mount>& extra,
                                         const fs::path& log, const std::string& stage) const {
  HermeticRunSpec r;
  r.image = options.image;
  r.inputs = extra;
  r.inputs.push_back({deps, spec.prefix, true});
  r.work_dir = work;
  r.cpus = options.cpus;
  r.memory_bytes = options.memory_bytes;
  r.shm_bytes = options.shm_bytes;
  r.pids_limit = options.pids_limit;
  r.network = options.network && stage != "relocate" ? NetworkMode::kDefault : NetworkMode::kNone;
  r.labels = {{kPackageLabel, spec.name}, {kBuildIdLabel, fs::path(log_dir).filename().string()}};
  r.timeout = options.timeout;
  r.log_file = log;
  r.live = options.live;
  r.tail_lines = kTailLines;
  r.context = {{"package", spec.name}, {"version", spec.version}, {"stage", stage}};
  r.check = false;
  return r;
}

// The compiler cache of the build step (build.ccache): the folder of this image, made 0700, and
// the variables templates/build/common.sh reads. Not an input of the package hash.
void PackageBuilder::add_ccache(const PackageSpec& spec, HermeticRunSpec& run) const {
  if (!options.ccache) return;
  const fs::path dir = ccache_dir_for(options.cache_dir, spec.toolchain.image_hash);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw BuildError("cannot create the compiler cache folder " + dir.string(),
                     {{"package", spec.name}, {"reason", ec.message()}},
                     "check the cache directory's free space and permissions, or set "
                     "'build.ccache: false'");
  }
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  run.caches.push_back({dir, kCcacheTarget, false});
  // ccache reads a size without a suffix as GB: give it KiB.
  const std::int64_t kib = std::max<std::int64_t>(1, options.ccache_max_bytes / 1024);
  run.env.push_back(std::string("SF_CCACHE_DIR=") + kCcacheTarget);
  run.env.push_back("SF_CCACHE_MAXSIZE=" + std::to_string(kib) + "Ki");
}

// The step a failed build was in, from the .stage file it keeps (a regular file of a few bytes

// Extracts a known entry under `destination` through the verifying unpack (signature,
// manifest, the tarball's sha256 and every file against the manifest, nothing left on a
// mismatch), then checks that it is the very entry this run verified or built.
Expected<void> PackageBuilder::unpack_known(const std::string& name, const KnownEntry& known,
                                            const fs::path& destination) const {
  EntryTrustPolicy policy = chain.options().trust;
  // An entry this run packed without a signer has no signature to check; its sha256 is pinned.
  if (known.built && options.signer == nullptr) policy.allow_unsigned = true;
  auto manifest = unpack_cache_entry(known.files, policy, destination);
  if (!manifest) return manifest.error();
  if (manifest->name != name || manifest->tarball_sha256 != known.tarball_sha256) {
    return Failure::error("the entry at " + known.files.manifest.string() +
                          " is not the one this run " + (known.built ? "built" : "verified") +
                          " (" + manifest->name + ", tarball sha256 " + manifest->tarball_sha256 +
                          ", expected " + name + ", " + known.tarball_sha256 + ")");
  }
  return {};
}

Expected<void> PackageBuilder::unpack_entry(const std::string& name, const fs::path& destination) {
  KnownEntry known;
  {
    std::lock_guard lock(mutex);
    auto it = entries.find(name);
    if (it == entries.end()) return Failure::not_found("no entry of " + name + " in this run");
    known = it->second;
  }
  return unpack_known(name, known, destination);
}

void PackageBuilder::unpack_inputs(const PackageSpec& spec, const fs::path& deps) {
  std::error_code ec;
  fs::create_directories(deps, ec);
  for (const PackageSpec* input : plan->build_inputs(spec.name)) {
    auto r = unpack_entry(input->name, deps);
    if (!r && r.error().kind == Failure::Kind::kNotFound) {
      throw BuildError(
          "internal: dependency " + input->name + " of " + spec.name + " has no entry yet",
          {{"package", spec.name}, {"dependency", input->name}},
          "report this: the executor scheduled a package before its inputs");
    }
    if (!r) {
      throw BuildError("cannot unpack the entry of " + input->name + " for " + spec.name + ": " +
                           r.error().message,
                       {{"package", spec.name},
                        {"dependency", input->name},
                        {"entry", entry_key_for(*input).base()},
                        {"reason", r.error().message}},
                       "the entry changed after this run verified or built it; check the cache "
                       "('slurm-factory cache verify --remove') and run again");
    }
  }
}

PackageOutcome PackageBuilder::build(const PackageSpec& spec, ContainerBackend& backend) {
  PackageOutcome out;
  out.name = spec.name;
  out.version = spec.version;
  out.hash = spec.hash;
  out.key = entry_key_for(spec);
  const auto started = std::chrono::steady_clock::now();

  const fs::path root = work_root / spec.name;
  const fs::path work = root / "work";
  const fs::path deps = root / "deps";
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directories(work, ec);
  if (ec) {
    throw BuildError("cannot create the work directory " + work.string(),
                     {{"package", spec.name}, {"reason", ec.message()}},
                     "check the cache directory's free space and permissions");
  }
  unpack_inputs(spec, deps);

  // The source archive, read-only.
  SourceFetcher fetcher(options.cache_dir);
  const SourceItem item = SourceItem::of(spec);
  const fs::path source = fetcher.path_for(item);
  if (!fs::is_regular_file(source)) {
    throw BuildError(
        "the source archive of " + spec.name + " " + spec.version + " is not in the source cache",
        {{"package", spec.name}, {"expected", source.string()}},
        "run 'slurm-factory fetch' with the same request first");
  }
  const std::string source_target = "/sources/" + spec.source.filename;
  std::vector<Mount> extra{{source, source_target, true}};
  if (!spec.patches.empty()) {
    fs::create_directories(work / "patches", ec);
    for (const auto& p : spec.patches) {
      fs::copy_file(p.path.empty() ? p.file : p.path,
                    work / "patches" / fs::path(p.file).filename(),
                    fs::copy_options::overwrite_existing, ec);
      if (ec) {
        throw BuildError("cannot copy patch " + p.file, {{"package", spec.name}},
                         "check the recipe directory");
      }
    }
  }
  // Reproducible builds: SOURCE_DATE_EPOCH from the (sha256-verified) source archive.
  auto sde = source_date_epoch(source);
  if (!sde) {
    throw BuildError(
        "cannot read the source archive of " + spec.name + " " + spec.version,
        {{"package", spec.name}, {"file", source.string()}, {"reason", sde.error().message}},
        "remove it from the source cache and run 'slurm-factory fetch' again");
  }
  out.source_date_epoch = *sde;
  // Incremental rebuild: the tree of the last build of this package on this image, when every
  // input but the source is the same, moved to work/prev (build_tree_store.hpp).
  const bool incremental =
      options.incremental && spec.incremental && !spec.autoreconf &&
      (spec.build_system == BuildSystem::kAutotools || spec.build_system == BuildSystem::kMake);
  const BuildTreeStore trees(options.cache_dir);
  std::string tree_key;
  bool reused = false;
  if (incremental) {
    tree_key = build_tree_key(spec, build_script_templates(templates(), spec));
    reused =
        trees.take(spec.toolchain.image_hash, spec.name, spec.version, tree_key, work / "prev");
    if (reused) {
      sf::log().info(
          "{} {}: reusing the build tree of its last build on this image ({})", spec.name,
          spec.version,
          trees.slot_for(spec.toolchain.image_hash, spec.name, spec.version, tree_key).string());
    }
  }
  write_text(work / "build.sh",
             render_build_script(spec, templates(), source_target, jobs(), *sde, options.cross));
  out.log_file = log_dir / (spec.name + ".log");
  const fs::path bundle = log_dir / (spec.name + "-debug");

  // 1. unpack, patch, configure, build, install.
  auto run = run_spec(spec, work, deps, extra, out.log_file, "build");
  add_ccache(spec, run);
  if (incremental) run.env.push_back("SF_SOURCE_LIST=1");
  // keep_work leaves the work folder as the build left it (src/ in place), and no tree is kept.
  if (incremental && !options.keep_work) run.env.push_back("SF_KEEP_TREE=1");
  if (reused) run.env.push_back("SF_PREV_TREE=/work/prev");
  run.script = "exec /bin/sh /work/build.sh";
  HermeticRunResult result;
  try {
    result = run_hermetic(backend, run);
  } catch (SlurmFactoryError& e) {
    const auto debug = write_debug_bundle(options, spec, bundle, work, deps, extra, out.log_file,
                                          failed_stage(work), "build.sh");
    e.with("debug bundle", bundle.string()).with("rerun", debug.rerun);
    if (!debug.not_copied.empty()) e.with("not copied", debug.not_copied);
    throw;
  }
  if (result.exit_code != 0) {
    const std::string stage = failed_stage(work);
    const auto debug = write_debug_bundle(options, spec, bundle, work, deps, extra, out.log_file,
                                          stage, "build.sh");
    fail_step(spec, stage, result.exit_code, result.tail, out.log_file, bundle, debug);
  }

  // 2. relocation, then 3. the entry.
  const fs::path debug_tree = relocate(spec, work, deps, extra, out.log_file, bundle, backend);
  store(spec, staged_tree(work, spec), debug_tree, out);
  out.status = PackageStatus::kBuilt;
  out.incremental = reused;
  if (incremental && !options.keep_work) {
    if (auto kept = trees.keep(spec.toolchain.image_hash, spec.name, spec.version, tree_key, work);
        !kept) {
      sf::log().warn("{} {}: the next build starts from scratch: {}", spec.name, spec.version,
                     kept.error().message);
    }
  }
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (!options.keep_work) fs::remove_all(root, ec);
  return out;
}

void PackageBuilder::store(const PackageSpec& spec, const fs::path& tree,
                           const fs::path& debug_tree, PackageOutcome& out) {
  std::error_code ec;
  // 3. the entry: packed, signed, written through the chain.
  CacheManifest manifest;
  manifest.name = spec.name;
  manifest.version = spec.version;
  manifest.hash = spec.hash;
  manifest.toolchain = out.key.toolchain;
  manifest.arch = out.key.arch;
  manifest.toolchain_identity = {{"family", spec.toolchain.family},
                                 {"release", spec.toolchain.release},
                                 {"arch", spec.toolchain.arch},
                                 {"image_hash", spec.toolchain.image_hash}};
  for (const auto& d : spec.dependencies) manifest.dependencies[d.name] = d.hash;
  manifest.features = spec.features;
  manifest.arguments = {{"build_system", to_string(spec.build_system)},
                        {"configure", spec.configure_args},
                        {"build", spec.build_args},
                        {"install", spec.install_args},
                        {"env", spec.env},
                        {"prefix", spec.prefix},
                        {"source_date_epoch", *out.source_date_epoch}};
  auto packed = pack_cache_entry(tree, manifest, entries_dir, options.signer);
  if (!packed) {
    throw CacheError(
        "cannot pack the staged tree of " + spec.name + " as a cache entry",
        {{"package", spec.name}, {"entry", out.key.base()}, {"reason", packed.error().message}},
        "check the cache directory's free space and permissions");
  }
  if (!debug_tree.empty()) {
    const fs::path debug_archive =
        options.cache_dir / "debug" / (out.key.base() + ".debug.tar.zst");
    fs::create_directories(debug_archive.parent_path(), ec);
    if (auto w = write_archive(debug_tree, debug_archive); !w) {
      log().warn("{}: debug info not kept: {}", spec.name, w.error().message);
    }
  }
  {
    std::lock_guard lock(mutex);
    out.written_to = chain.put(out.key, *packed);
    entries[spec.name] = {*packed, manifest.tarball_sha256, true};
  }
  out.tarball = packed->tarball;
  out.tarball_sha256 = manifest.tarball_sha256;
}

// A cache hit, or nullopt.
std::optional<PackageOutcome> PackageBuilder::fetch(const PackageSpec& spec) {
  const auto started = std::chrono::steady_clock::now();
  const CacheEntryKey key = entry_key_for(spec);
  std::lock_guard lock(mutex);
  auto hit = chain.get(key, entries_dir);
  if (!hit) return std::nullopt;
  entries[spec.name] = {hit->files, hit->manifest.tarball_sha256, false};
  PackageOutcome out;
  out.name = spec.name;
  out.version = spec.version;
  out.hash = spec.hash;
  out.key = key;
  out.status = PackageStatus::kCached;
  out.layer = hit->layer;
  out.tarball = hit->files.tarball;
  out.tarball_sha256 = hit->manifest.tarball_sha256;
  if (const auto& a = hit->manifest.arguments; a.is_object() && a.contains("source_date_epoch") &&
                                               a["source_date_epoch"].is_number_integer()) {
    out.source_date_epoch = a["source_date_epoch"].get<std::int64_t>();
  }
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return out;
}

}  // namespace sf
