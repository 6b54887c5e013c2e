#include "build/build_executor.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "artifact/relocation.hpp"
#include "build/build_tree_store.hpp"
#include "build/source_fetcher.hpp"
#include "cache/cache_chain.hpp"
#include "cache/cache_entry.hpp"
#include "containers/hermetic_runner.hpp"
#include "formats/archive_reader.hpp"
#include "formats/source_date_epoch.hpp"
#include "recipes/package_hash.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "support/data_dir.hpp"
#include "support/file_io.hpp"
#include "support/safe_walk.hpp"
#include "support/shell_quote.hpp"
#include "support/strings.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

constexpr std::size_t kTailLines = 40;
// What the host reads of what a build leaves in its work folder: .stage (a step name) and each
// file of a debug bundle (config.log and the like, cut at this size).
constexpr std::uint64_t kStageFileCap = 256;
constexpr std::uint64_t kBundleFileCap = 64ULL << 20;
constexpr const char* kPackageLabel = "org.slurm-factory.package";
constexpr const char* kBuildIdLabel = "org.slurm-factory.build-id";

void write_text(const fs::path& p, const std::string& text) {
  std::error_code ec;
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) {
    throw BuildError("cannot write " + p.string(), {{"file", p.string()}},
                     "check the cache directory's free space and permissions");
  }
}

std::vector<std::string> resolve_jobs(const std::vector<std::string>& args, int jobs) {
  std::vector<std::string> out;
  out.reserve(args.size());
  for (const auto& a : args) out.push_back(replace_all(a, "${jobs}", std::to_string(jobs)));
  return out;
}

// UTC time + pid, and a counter after the first: the cells of `slurm-factory run` start several
// executors in one process within the same second, and each needs its own logs/ and work/.
std::string new_build_id() {
  static std::atomic<unsigned> count{0};
  const unsigned n = ++count;
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf) + "-" + std::to_string(::getpid()) +
         (n > 1 ? "-" + std::to_string(n) : std::string());
}

// The right to build one package hash: an exclusive flock on <cache_dir>/locks/<hash>.lock, on a
// file descriptor of its own (flock locks belong to the open file description, so two threads of
// one process exclude each other as two processes do; the kernel drops the lock if the holder
// dies). Whoever gets it second looks in the cache again and finds the entry the first one built.
class PackageBuildLock {
 public:
  PackageBuildLock(const fs::path& file, const std::string& package) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      throw CacheError("cannot open the build lock " + file.string() + ": " + std::strerror(errno),
                       {{"package", package}, {"file", file.string()}},
                       "check that the cache directory is writable");
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
    waited_ = true;
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd_);
      throw CacheError("cannot lock " + file.string() + ": " + std::strerror(err),
                       {{"package", package}, {"file", file.string()}},
                       "check that the cache directory is on a file system with flock support");
    }
  }
  ~PackageBuildLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  PackageBuildLock(const PackageBuildLock&) = delete;
  PackageBuildLock& operator=(const PackageBuildLock&) = delete;
  bool waited() const { return waited_; }

 private:
  int fd_ = -1;
  bool waited_ = false;
};

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

int host_jobs() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace

std::string to_string(PackageStatus s) {
  switch (s) {
    case PackageStatus::kBuilt:
      return "built";
    case PackageStatus::kCached:
      return "cached";
    case PackageStatus::kSystem:
      return "system";
  }
  return "?";
}

std::size_t BuildReport::built() const {
  return static_cast<std::size_t>(
      std::count_if(packages.begin(), packages.end(),
                    [](const auto& p) { return p.status == PackageStatus::kBuilt; }));
}

std::size_t BuildReport::cached() const {
  return static_cast<std::size_t>(
      std::count_if(packages.begin(), packages.end(),
                    [](const auto& p) { return p.status == PackageStatus::kCached; }));
}

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

std::string render_build_script(const PackageSpec& spec, const fs::path& templates,
                                const std::string& source_in_container, int jobs,
                                std::optional<std::int64_t> source_date_epoch) {
  const std::string system = to_string(spec.build_system);
  const fs::path common = templates / "common.sh";
  const fs::path part = templates / (system + ".sh");
  for (const auto& f : {common, part}) {
    if (!fs::is_regular_file(f)) {
      throw BuildError("the build script template " + f.string() + " is missing",
                       {{"package", spec.name}, {"build system", system}, {"file", f.string()}},
                       "reinstall slurm-factory or set SLURM_FACTORY_DATA_DIR to a directory with "
                       "templates/build/");
    }
  }
  std::string s;
  s += "#!/bin/sh\n";
  s += "# Generated by slurm-factory: " + spec.name + " " + spec.version + " (" + spec.hash12() +
       "), build system " + system + ", toolchain " + spec.toolchain.family + "-" +
       spec.toolchain.release + "/" + spec.toolchain.arch + ".\n";
  s += "SF_NAME=" + shell_quote(spec.name) + "\n";
  s += "SF_VERSION=" + shell_quote(spec.version) + "\n";
  s += "SF_HASH=" + shell_quote(spec.hash) + "\n";
  s += "SF_PREFIX=" + shell_quote(spec.prefix) + "\n";
  s += "SF_JOBS=" + std::to_string(jobs) + "\n";
  s += "SF_SOURCE=" + shell_quote(source_in_container) + "\n";
  s += "SF_STRIP_DIR=" + shell_quote(spec.source.strip_dir) + "\n";
  s += std::string("SF_AUTORECONF=") + (spec.autoreconf ? "1" : "0") + "\n";
  s += "SF_CONFIGURE_COMMAND=" + shell_quote(spec.configure_command) + "\n";
  s += "SF_CONFIGURE_ARGS=" + shell_quote(shell_join(resolve_jobs(spec.configure_args, jobs))) +
       "\n";
  s += "SF_BUILD_ARGS=" + shell_quote(shell_join(resolve_jobs(spec.build_args, jobs))) + "\n";
  s += "SF_INSTALL_ARGS=" + shell_quote(shell_join(resolve_jobs(spec.install_args, jobs))) + "\n";
  std::string extra_install;  // one shell-quoted argument list per line
  for (const auto& line : resolve_jobs(spec.extra_install, jobs)) {
    std::vector<std::string> words;
    std::istringstream in(line);
    for (std::string w; in >> w;) words.push_back(w);
    extra_install += shell_join(words) + "\n";
  }
  s += "SF_EXTRA_INSTALL=" + shell_quote(extra_install) + "\n";
  std::string patches;
  for (const auto& p : spec.patches) {
    patches += std::to_string(p.strip) + " " + fs::path(p.file).filename().string() + "\n";
  }
  s += "SF_PATCHES=" + shell_quote(patches) + "\n";
  if (!spec.make_shell.empty()) s += "SF_MAKE_SHELL=" + shell_quote(spec.make_shell) + "\n";
  // Reproducible builds (issue 19): common.sh exports it as SOURCE_DATE_EPOCH.
  if (source_date_epoch) {
    s += "SF_SOURCE_DATE_EPOCH=" + std::to_string(*source_date_epoch) + "\n";
  }
  for (const auto& [key, value] : spec.env) {
    const std::string v = replace_all(value, "${jobs}", std::to_string(jobs));
    if (key == "CPPFLAGS" || key == "CFLAGS" || key == "CXXFLAGS" || key == "LDFLAGS") {
      s += "SF_ENV_" + key + "=" + shell_quote(v) + "\n";
    } else {
      s += "export " + key + "=" + shell_quote(v) + "\n";
    }
  }
  s += "\n" + read_file(common) + "\n" + read_file(part) + "\nsf_main\n";
  return s;
}

struct BuildExecutor::Impl {
  BackendFactory make_backend;
  CacheChain& chain;
  BuildExecutorOptions options;

  // Per run.
  const Plan* plan = nullptr;
  fs::path log_dir;
  fs::path work_root;
  fs::path entries_dir;
  std::mutex mutex;  // guards the chain, `entries`, the event sink and the outcomes
  // An entry of this run: fetched and verified (chain.get) or built and packed here; its
  // tarball's sha256 pins it from then on.
  struct KnownEntry {
    CacheEntryFiles files;
    std::string tarball_sha256;
    bool built = false;
  };
  std::map<std::string, KnownEntry> entries;

  Impl(BackendFactory f, CacheChain& c, BuildExecutorOptions o)
      : make_backend(std::move(f)), chain(c), options(std::move(o)) {}

  fs::path templates() const {
    return options.templates_dir.empty() ? templates_dir() / "build" : options.templates_dir;
  }

  int jobs() const { return options.jobs > 0 ? options.jobs : host_jobs(); }

  HermeticRunSpec run_spec(const PackageSpec& spec, const fs::path& work, const fs::path& deps,
                           const std::vector<Mount>& extra, const fs::path& log,
                           const std::string& stage) const {
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
  void add_ccache(const PackageSpec& spec, HermeticRunSpec& run) const {
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
  // holding a step name; anything else, a link included, is not read and gives "unknown").
  static std::string failed_stage(const fs::path& work) {
    auto text = read_file_beneath(work, ".stage", kStageFileCap);
    if (!text) return text.error().kind == Failure::Kind::kNotFound ? "unpack" : "unknown";
    const std::string stage(trim_end(*text, "\n "));
    if (stage.empty()) return "unpack";
    const bool name = std::all_of(stage.begin(), stage.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
    return name && stage.size() <= 32 ? stage : "unknown";
  }

  struct DebugBundle {
    std::string rerun;       // the command that reruns the step
    std::string not_copied;  // files of the work folder refused (links, not regular), one a line
  };

  // The debug bundle of a failed step. What it takes from the work folder (the script, config.log
  // and the like) it copies only as regular files reached without following a link, each cut at
  // kBundleFileCap; a link or special file there is named in `not_copied`, never followed.
  DebugBundle write_debug_bundle(const PackageSpec& spec, const fs::path& bundle,
                                 const fs::path& work, const fs::path& deps,
                                 const std::vector<Mount>& extra, const fs::path& log,
                                 const std::string& stage, const std::string& script_name) const {
    DebugBundle out;
    std::error_code ec;
    fs::create_directories(bundle, ec);
    fs::copy_file(log, bundle / "build.log", fs::copy_options::overwrite_existing, ec);
    for (const std::string& rel :
         {script_name, std::string("src/config.log"), std::string("build/config.log"),
          std::string("build/CMakeFiles/CMakeConfigureLog.yaml"),
          std::string("build/CMakeFiles/CMakeError.log"),
          std::string("build/meson-logs/meson-log.txt")}) {
      auto copied = copy_file_beneath(work, rel, bundle / fs::path(rel).filename(), kBundleFileCap);
      if (copied) {
        if (copied->truncated) {
          sf::log().warn("{}: only the first {} bytes of {} are in the debug bundle", spec.name,
                         kBundleFileCap, rel);
        }
        continue;
      }
      if (copied.error().kind == Failure::Kind::kNotFound) continue;
      out.not_copied += (out.not_copied.empty() ? "" : "\n") + copied.error().message;
    }
    std::vector<std::string> cmd{options.backend_command,
                                 "run",
                                 "--rm",
                                 "-it",
                                 "--user",
                                 builder_user(),
                                 "--cap-drop",
                                 "ALL",
                                 "--security-opt",
                                 "no-new-privileges",
                                 "-v",
                                 work.string() + ":/work"};
    // The same network as the step had (build.network: the engine's default network).
    if (!options.network || stage == "relocate") cmd.insert(cmd.begin() + 4, {"--network", "none"});
    for (const auto& m : extra) {
      cmd.push_back("-v");
      cmd.push_back(m.source.string() + ":" + m.target + ":ro");
    }
    cmd.push_back("-v");
    cmd.push_back(deps.string() + ":" + spec.prefix + ":ro");
    if (stage == "configure" || stage == "build" || stage == "install") {
      cmd.push_back("-e");
      cmd.push_back("SF_ONLY_STAGE=" + stage);
    }
    cmd.insert(cmd.end(), {"-w", "/work", options.image, "/bin/sh", "/work/" + script_name});
    const std::string rerun = shell_join(cmd);
    write_text(bundle / "rerun.sh", "#!/bin/sh\n# Reruns the '" + stage + "' step of " + spec.name +
                                        " " + spec.version +
                                        " in the state the failed build left in " + work.string() +
                                        ".\n" + rerun + "\n");
    fs::permissions(bundle / "rerun.sh", fs::perms::owner_exec | fs::perms::group_exec,
                    fs::perm_options::add, ec);
    out.rerun = rerun;
    return out;
  }

  [[noreturn]] void fail_step(const PackageSpec& spec, const std::string& stage, int exit_code,
                              const std::vector<std::string>& tail, const fs::path& log,
                              const fs::path& bundle, const DebugBundle& debug) const {
    const std::string& rerun = debug.rerun;
    BuildError e(spec.name + " " + spec.version + ": the " + stage + " step failed (exit " +
                     std::to_string(exit_code) + "); last " + std::to_string(tail.size()) +
                     " lines of the log:\n" + join_lines(tail),
                 {{"package", spec.name},
                  {"version", spec.version},
                  {"stage", stage},
                  {"log file", log.string()},
                  {"debug bundle", bundle.string()},
                  {"rerun", rerun}},
                 "read the log and config.log in the debug bundle; fix the recipe "
                 "(configs/recipes/" +
                     spec.name +
                     ".yaml) and run again, or rerun the step with the command "
                     "above to investigate");
    if (!debug.not_copied.empty()) e.with("not copied", debug.not_copied);
    throw e;
  }

  // Extracts a known entry under `destination` through the verifying unpack (signature,
  // manifest, the tarball's sha256 and every file against the manifest, nothing left on a
  // mismatch), then checks that it is the very entry this run verified or built.
  Expected<void> unpack_known(const std::string& name, const KnownEntry& known,
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

  Expected<void> unpack_entry(const std::string& name, const fs::path& destination) {
    KnownEntry known;
    {
      std::lock_guard lock(mutex);
      auto it = entries.find(name);
      if (it == entries.end()) return Failure::not_found("no entry of " + name + " in this run");
      known = it->second;
    }
    return unpack_known(name, known, destination);
  }

  // Check the staged tree before the host reads it: reached from the work folder without
  // following a link, and its links settled (settle_staged_links): one that points out of the
  // tree fails the build, naming it; nothing is followed, packed or signed.
  void check_stage(const PackageSpec& spec, const fs::path& work, const std::string& step,
                   const fs::path& log) const {
    const std::string rel = "stage" + spec.prefix;
    auto dir = open_dir_beneath(work, rel);
    if (!dir && dir.error().kind == Failure::Kind::kNotFound) {
      throw BuildError(
          spec.name + " " + spec.version + ": the install step put nothing under " + spec.prefix,
          {{"package", spec.name},
           {"stage", "install"},
           {"log file", log.string()},
           {"staged", (work / "stage").string()}},
          "check the recipe's install arguments (prefix, DESTDIR support)");
    }
    if (!dir) {
      throw BuildError(
          spec.name + " " + spec.version + ": the staged tree is refused: " + dir.error().message,
          {{"package", spec.name}, {"stage", step}, {"log file", log.string()}},
          "a package installs real folders under " + spec.prefix +
              ", never a link to elsewhere; fix the recipe's install step "
              "(configs/recipes/" +
              spec.name + ".yaml)");
    }
    auto links = settle_staged_links(work / rel, spec.prefix);
    if (!links) {
      throw BuildError("cannot read the staged tree of " + spec.name,
                       {{"package", spec.name}, {"stage", step}, {"reason", links.error().message}},
                       "look at the staged tree under " + (work / rel).string());
    }
    if (!links->refused.empty()) {
      throw BuildError(spec.name + " " + spec.version +
                           ": the staged tree holds symlinks that point out of " + spec.prefix +
                           " (not followed, nothing packed):\n" + join_lines(links->refused),
                       {{"package", spec.name},
                        {"stage", step},
                        {"link", links->refused.front()},
                        {"log file", log.string()}},
                       "a package may link only inside its prefix (lib/libfoo.so -> libfoo.so.1, "
                       "or an absolute link under " +
                           spec.prefix + "); fix the recipe's install step (configs/recipes/" +
                           spec.name + ".yaml)");
    }
    for (const auto& r : links->rewritten) {
      sf::log().info("{}: absolute link made relative: {}", spec.name, r);
    }
  }

  void unpack_inputs(const PackageSpec& spec, const fs::path& deps) {
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

  PackageOutcome build(const PackageSpec& spec, ContainerBackend& backend) {
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
    SourceItem item{spec.name, spec.version, spec.source.sha256, spec.source.filename,
                    spec.source.mirrors};
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
      tree_key =
          build_tree_key(spec, read_file(templates() / "common.sh") +
                                   read_file(templates() / (to_string(spec.build_system) + ".sh")));
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
               render_build_script(spec, templates(), source_target, jobs(), *sde));
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
      const auto debug = write_debug_bundle(spec, bundle, work, deps, extra, out.log_file,
                                            failed_stage(work), "build.sh");
      e.with("debug bundle", bundle.string()).with("rerun", debug.rerun);
      if (!debug.not_copied.empty()) e.with("not copied", debug.not_copied);
      throw;
    }
    if (result.exit_code != 0) {
      const std::string stage = failed_stage(work);
      const auto debug =
          write_debug_bundle(spec, bundle, work, deps, extra, out.log_file, stage, "build.sh");
      fail_step(spec, stage, result.exit_code, result.tail, out.log_file, bundle, debug);
    }

    // 2. relocation: decided on the host, applied in the build image, checked on the host. The
    // host reads the staged tree only as check_stage left it: reached without following a link,
    // no link in it pointing out of it.
    const fs::path tree = work / "stage" / fs::path(spec.prefix).relative_path();
    check_stage(spec, work, "install", out.log_file);
    auto reloc = plan_relocation(tree);
    if (!reloc) {
      throw BuildError(
          "cannot read the staged tree of " + spec.name,
          {{"package", spec.name}, {"stage", "relocate"}, {"reason", reloc.error().message}},
          "look at the staged tree under " + tree.string());
    }
    remove_libtool_archives(tree, *reloc);
    if (!options.split_debug) {
      for (auto& f : reloc->elf_files) f.split_debug = false;
    }
    const std::string container_tree = "/work/stage" + spec.prefix;
    // The build may have left something at relocate.sh (a link to a host file): it goes first.
    if (auto r = remove_file_beneath(work, "relocate.sh");
        !r && r.error().kind != Failure::Kind::kNotFound) {
      throw BuildError(
          "cannot write the relocation script of " + spec.name + ": " + r.error().message,
          {{"package", spec.name}, {"stage", "relocate"}},
          "the build left a folder at /work/relocate.sh; fix the recipe");
    }
    write_text(work / "relocate.sh",
               relocation_script(*reloc, container_tree, "/work/debug" + spec.prefix));
    const fs::path reloc_log = log_dir / (spec.name + "-relocate.log");
    auto rrun = run_spec(spec, work, deps, extra, reloc_log, "relocate");
    rrun.script = "exec /bin/sh /work/relocate.sh";
    auto rresult = run_hermetic(backend, rrun);
    if (rresult.exit_code != 0) {
      const auto debug =
          write_debug_bundle(spec, bundle, work, deps, extra, reloc_log, "relocate", "relocate.sh");
      fail_step(spec, "relocate", rresult.exit_code, rresult.tail, reloc_log, bundle, debug);
    }
    check_stage(spec, work, "relocate", reloc_log);
    if (auto problems = check_relocation(tree); !problems.empty()) {
      throw BuildError(
          spec.name + " " + spec.version + ": the staged tree is not relocatable:\n" +
              join_lines(problems),
          {{"package", spec.name}, {"stage", "relocate"}, {"log file", reloc_log.string()}},
          "the relocation step must set an $ORIGIN-relative RUNPATH on every ELF "
          "file; look at the relocate log");
    }
    // The debug tree (written by relocate.sh), read like the staged tree.
    fs::path debug_tree;
    if (options.split_debug) {
      const std::string rel = "debug" + spec.prefix;
      if (auto d = open_dir_beneath(work, rel); d) {
        debug_tree = work / rel;
      } else if (d.error().kind != Failure::Kind::kNotFound) {
        throw BuildError(spec.name + " " + spec.version +
                             ": the debug tree cannot be read safely: " + d.error().message,
                         {{"package", spec.name}, {"stage", "relocate"}},
                         "a build must not make links on the way to /work/debug" + spec.prefix +
                             "; fix the recipe (configs/recipes/" + spec.name + ".yaml)");
      }
    }

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
    out.status = PackageStatus::kBuilt;
    out.incremental = reused;
    if (incremental && !options.keep_work) {
      if (auto kept =
              trees.keep(spec.toolchain.image_hash, spec.name, spec.version, tree_key, work);
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

  // A cache hit, or nullopt.
  std::optional<PackageOutcome> fetch(const PackageSpec& spec) {
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
};

BuildExecutor::BuildExecutor(BackendFactory make_backend, CacheChain& chain,
                             BuildExecutorOptions options)
    : impl_(std::make_unique<Impl>(std::move(make_backend), chain, std::move(options))) {}

BuildExecutor::~BuildExecutor() = default;

Expected<void> BuildExecutor::unpack_entry(const PackageOutcome& outcome,
                                           const fs::path& destination) {
  return impl_->unpack_entry(outcome.name, destination);
}

BuildReport BuildExecutor::run(const Plan& plan, const BuildEventSink& events) {
  Impl& m = *impl_;
  BuildReport report;
  report.build_id = m.options.build_id.empty() ? new_build_id() : m.options.build_id;
  m.plan = &plan;
  m.log_dir = m.options.cache_dir / "logs" / report.build_id;
  m.work_root = m.options.cache_dir / "work" / report.build_id;
  m.entries_dir = m.work_root / "entries";
  m.entries.clear();
  report.log_dir = m.log_dir;
  report.entries_dir = m.entries_dir;
  std::error_code ec;
  fs::create_directories(m.log_dir, ec);
  fs::create_directories(m.entries_dir, ec);

  // Outcomes by plan index; system packages are in the image already.
  std::vector<std::optional<PackageOutcome>> outcomes(plan.packages.size());
  std::vector<std::size_t> todo;  // plan indices of source packages
  std::map<std::string, std::size_t> index_of;
  for (std::size_t i = 0; i < plan.packages.size(); ++i) {
    const auto& p = plan.packages[i];
    index_of[p.name] = i;
    if (p.origin == Origin::kSystem) {
      PackageOutcome o;
      o.name = p.name;
      o.version = p.version;
      o.hash = p.hash;
      o.status = PackageStatus::kSystem;
      outcomes[i] = o;
    } else {
      todo.push_back(i);
    }
  }
  const std::size_t total = todo.size();
  std::size_t position = 0;  // events' n of N
  auto emit = [&](const BuildEvent& e) {
    if (events) events(e);
  };
  auto event_for = [&](const PackageSpec& p, const std::string& kind) {
    BuildEvent e;
    e.kind = kind;
    e.package = p.name;
    e.version = p.version;
    e.hash12 = p.hash12();
    e.total = total;
    return e;
  };

  // Scheduler: a package is ready when every build input is done.
  std::mutex sched;
  std::condition_variable cv;
  std::vector<int> state(plan.packages.size(), 0);  // 0 waiting, 1 running, 2 done
  std::exception_ptr failure;
  std::size_t running = 0;
  std::map<std::size_t, std::vector<std::size_t>> inputs;
  for (std::size_t i : todo) {
    for (const PackageSpec* in : plan.build_inputs(plan.packages[i].name)) {
      inputs[i].push_back(index_of.at(in->name));
    }
  }
  auto next_ready = [&]() -> std::optional<std::size_t> {
    for (std::size_t i : todo) {
      if (state[i] != 0) continue;
      bool ready = true;
      for (std::size_t d : inputs[i]) ready = ready && state[d] == 2;
      if (ready) return i;
    }
    return std::nullopt;
  };
  auto all_done = [&] {
    return std::all_of(todo.begin(), todo.end(), [&](std::size_t i) { return state[i] == 2; });
  };

  auto worker = [&] {
    std::unique_ptr<ContainerBackend> backend;
    for (;;) {
      std::size_t i = 0;
      {
        std::unique_lock lock(sched);
        cv.wait(lock, [&] { return failure || all_done() || next_ready().has_value(); });
        if (failure || all_done()) return;
        i = *next_ready();
        state[i] = 1;
        ++running;
      }
      const PackageSpec& spec = plan.packages[i];
      try {
        std::optional<PackageOutcome> o = m.fetch(spec);
        // A miss: take the package's build lock, then look again; a hit now means another cell
        // or process built it while we waited (a build in progress is awaited, not repeated).
        std::optional<PackageBuildLock> build_lock;
        bool reused = false;
        if (!o) {
          build_lock.emplace(m.options.cache_dir / "locks" / (spec.hash + ".lock"), spec.name);
          if (build_lock->waited()) {
            log().info("{} {} ({}): waited for another cell/process building it", spec.name,
                       spec.version, spec.hash12());
          }
          o = m.fetch(spec);
          if (o) {
            reused = true;
            build_lock.reset();
            log().info("{} {} ({}): built by another cell/process, reused", spec.name, spec.version,
                       spec.hash12());
          }
        }
        if (!o) {
          {
            std::lock_guard lock(m.mutex);
            auto e = event_for(spec, "start");
            std::lock_guard slock(sched);
            e.index = ++position;
            emit(e);
          }
          if (!backend) backend = m.make_backend();
          o = m.build(spec, *backend);
          std::lock_guard lock(m.mutex);
          auto e = event_for(spec, "built");
          e.index = position;
          e.elapsed = o->elapsed;
          e.detail = o->log_file.string();
          emit(e);
        } else {
          std::lock_guard lock(m.mutex);
          auto e = event_for(spec, "cached");
          {
            std::lock_guard slock(sched);
            e.index = ++position;
          }
          e.elapsed = o->elapsed;
          e.detail = reused ? o->layer + ", built by another cell/process" : o->layer;
          emit(e);
        }
        std::lock_guard lock(sched);
        outcomes[i] = std::move(o);
        state[i] = 2;
        --running;
      } catch (...) {
        std::lock_guard lock(sched);
        if (!failure) failure = std::current_exception();
        --running;
      }
      cv.notify_all();
    }
  };

  const int parallel = std::max(1, m.options.parallel);
  std::vector<std::thread> threads;
  for (int t = 1; t < parallel; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);

  for (auto& o : outcomes) {
    if (o) report.packages.push_back(std::move(*o));
  }
  return report;
}

}  // namespace sf
