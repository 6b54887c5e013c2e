#include "pipeline/build_pipeline.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <thread>

#include "app/app.hpp"
#include "artifact/artifact_packaging.hpp"
#include "artifact/artifact_publisher.hpp"
#include "artifact/dlopen_names.hpp"
#include "artifact/view_assembler.hpp"
#include "build/source_fetcher.hpp"
#include "cache/cache_chain.hpp"
#include "cache/cache_chain_factory.hpp"
#include "containers/hermetic_runner.hpp"
#include "containers/system_library_export.hpp"
#include "formats/archive_reader.hpp"
#include "plugin_host/plugin_host.hpp"
#include "recipes/package_hash.hpp"
#include "recipes/recipe_book.hpp"
#include "recipes/required_plugins.hpp"
#include "signing/gpg_signer.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "slurm_factory/packager.hpp"
#include "support/strings.hpp"
#include "support/template_renderer.hpp"
#include "toolchains/image_package_list.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_image.hpp"
#include "toolchains/toolchain_resolution.hpp"

namespace fs = std::filesystem;

namespace sf {

namespace {

using Clock = std::chrono::steady_clock;

using Resolved = ResolvedToolchain;

Resolved resolve(App& app, const BuildRequest& request) {
  return resolve_toolchain(app, request.toolchain, request.feature_names());
}

PlannedBuild plan_with(const Resolved& r, const BuildRequest& request) {
  const auto start = Clock::now();
  PlannedBuild out;
  RecipeBook book = RecipeBook::load_directory(RecipeBook::default_directory());
  PlanRequest req;
  req.slurm_version = request.slurm_version;
  req.toolchain = r.image.release;
  req.toolchain_image_hash = r.image_hash;
  req.features = request.feature_names();
  req.arch = request.arch == r.image.release.arch ? std::string() : request.arch;
  req.build_network = r.build_network;
  for (const auto& f : r.features) {
    for (const auto& a : f->configure_args()) req.extra_slurm_configure_args.push_back(a);
  }
  out.plan = make_plan(book, req);
  out.image_tag = toolchain_image_tag(r.image.release.name, req.toolchain_image_hash);
  // The setup script installs every -dev package of the release; the plan must need no other.
  const auto installed = setup_packages(r.image.release, r.image.extra_packages);
  for (const auto& p : out.plan.system_package_names) {
    if (std::find(installed.begin(), installed.end(), p) == installed.end()) {
      throw ConfigurationError(
          "the plan needs the system package " + p + ", which the build image of " +
              r.image.release.name + " does not install",
          {{"toolchain", r.image.release.name}, {"package", p}},
          "add it to the release's dev_packages (" + r.image.release.origin + ")");
    }
  }
  out.plan_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return out;
}

std::string backend_name(App& app, const BuildRequest& request) {
  const std::string name = request.backend.empty() ? app.config().default_backend : request.backend;
  const auto names = app.plugins().container_backend_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string list = join(names, ", ");
    throw UsageError("unknown container backend '" + name + "'", {{"backend", name}},
                     "valid backends (loaded plugins): " + (list.empty() ? "(none)" : list));
  }
  return name;
}

// Removes `dir` without waiting: a warm run's work folder holds thousands of small files (unpacked
// entries, the view, its staging copy), and on a busy disk unlinking them took 3 s of a 14 s run.
// The folder is renamed to ".trash-<name>" beside it (instant), then one detached `rm -rf` (its
// own session, output to /dev/null) removes it together with any older ".trash-*" a killed run
// left. If the rename or the spawn fails, it is removed here.
void remove_aside(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  const fs::path parent = dir.parent_path();
  fs::rename(dir, parent / (".trash-" + dir.filename().string()), ec);
  if (ec) {
    fs::remove_all(dir, ec);
    return;
  }
  std::vector<std::string> args{"rm", "-rf", "--"};
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    if (e.path().filename().string().rfind(".trash-", 0) == 0) args.push_back(e.path().string());
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  ::posix_spawnattr_init(&attr);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  // By absolute path, with a minimal environment: no PATH lookup, no credentials handed on.
  char env_path[] = "PATH=/usr/bin:/bin";
  char env_lc[] = "LC_ALL=C";
  char* envp[] = {env_path, env_lc, nullptr};
  const int rc = ::posix_spawn(&pid, "/bin/rm", &actions, &attr, argv.data(), envp);
  ::posix_spawnattr_destroy(&attr);
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    for (std::size_t i = 3; i < args.size(); ++i) fs::remove_all(args[i], ec);
    return;
  }
  // Reaped by a thread of its own, so that it is no zombie while this process lives on.
  std::thread([pid] {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }).detach();
}

}  // namespace

fs::path artifact_output_dir(const fs::path& output_root, const Plan& plan) {
  return output_root / plan.request.toolchain.name / plan.slurm_version /
         plan.root().toolchain.arch;
}

nlohmann::json artifact_view_policy(const Plan& plan, bool with_dev) {
  nlohmann::json programs = nlohmann::json::object();
  for (const auto& p : plan.packages) {
    if (p.origin == Origin::kSource && p.runtime) programs[p.name] = p.public_programs;
  }
  return {{"with_dev", with_dev}, {"public_programs", programs}};
}

std::optional<fs::path> find_valid_artifact(const fs::path& dir, const std::string& basename,
                                            const std::string& root_hash, const GpgTrust& trust,
                                            const nlohmann::json& view_policy) {
  for (const char* ext : {".tar.zst", ".tar.gz", ".tar.xz"}) {
    const fs::path artifact = dir / (basename + ext);
    std::error_code ec;
    if (!fs::is_regular_file(artifact, ec)) continue;
    nlohmann::json prov;
    try {
      std::ifstream in(provenance_path_for(artifact));
      prov = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      log().debug("{}: unreadable provenance ({}), rebuilding", artifact.string(), e.what());
      continue;
    }
    const auto* hash = prov.contains("plan") && prov["plan"].is_object() &&
                               prov["plan"].contains("root_hash") &&
                               prov["plan"]["root_hash"].is_string()
                           ? prov["plan"]["root_hash"].get_ptr<const std::string*>()
                           : nullptr;
    if (hash == nullptr || *hash != root_hash) {
      log().info("{} was built from another plan; building this one", artifact.string());
      continue;
    }
    // What the view keeps (--with-dev, the recipes' public_programs) is no package input: a recipe
    // that changed its public programs makes another artifact from the same entries.
    const nlohmann::json* policy =
        prov.contains("plan") && prov["plan"].is_object() && prov["plan"].contains("view_policy")
            ? &prov["plan"]["view_policy"]
            : nullptr;
    if (policy == nullptr || *policy != view_policy) {
      log().info("{} kept other files in its view; building it again", artifact.string());
      continue;
    }
    // Templates and assembly belong to the builder: another version makes another artifact.
    const std::string builder = prov.contains("builder") && prov["builder"].is_object()
                                    ? prov["builder"].value("version", std::string())
                                    : std::string();
    if (builder != SF_VERSION) {
      log().info("{} was made by slurm-factory {} (this is {}); building it again",
                 artifact.string(), builder.empty() ? "?" : builder, SF_VERSION);
      continue;
    }
    VerifyOptions vo;
    vo.trust = trust;
    const VerifyReport report = verify_artifact(artifact, vo);
    if (!report.ok() || report.signer.empty()) {
      log().warn("{} is there but does not verify ({}); building it again", artifact.string(),
                 report.problems.empty()
                     ? std::string("unsigned")
                     : report.problems.front().file + ": " + report.problems.front().problem);
      continue;
    }
    return artifact;
  }
  return std::nullopt;
}

PlannedBuild plan_build(App& app, const BuildRequest& request) {
  return plan_with(resolve(app, request), request);
}

PipelineEvent make_pipeline_event(std::string stage, std::string kind, std::string message,
                                  std::chrono::steady_clock::time_point started,
                                  nlohmann::json data) {
  PipelineEvent e;
  e.stage = std::move(stage);
  e.kind = std::move(kind);
  e.message = std::move(message);
  e.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  e.data = std::move(data);
  return e;
}

nlohmann::json to_json(const PipelineEvent& e) {
  nlohmann::json j{{"event", e.stage},
                   {"kind", e.kind},
                   {"message", e.message},
                   {"elapsed_ms", e.elapsed.count()}};
  if (!e.data.empty()) j["data"] = e.data;
  if (e.package) {
    j["package"] = {{"name", e.package->package},  {"version", e.package->version},
                    {"hash12", e.package->hash12}, {"index", e.package->index},
                    {"total", e.package->total},   {"elapsed_ms", e.package->elapsed.count()}};
    if (!e.package->detail.empty()) j["package"]["detail"] = e.package->detail;
  }
  return j;
}

PipelineResult run_build_pipeline(App& app, const BuildRequest& request,
                                  const PipelineEventSink& events, std::ostream* live) {
  const auto started = Clock::now();
  auto emit = [&](const std::string& stage, const std::string& kind, const std::string& message,
                  nlohmann::json data = nlohmann::json::object()) {
    if (events) events(make_pipeline_event(stage, kind, message, started, std::move(data)));
  };
  Config& config = app.config();
  PipelineResult result;

  // 1. plan
  emit("plan", "start", "planning Slurm " + request.slurm_version + " for " + request.toolchain);
  Resolved resolved = resolve(app, request);
  const std::string backend = backend_name(app, request);
  result.planned = plan_with(resolved, request);
  const Plan& plan = result.planned.plan;
  emit("plan", "done",
       "Slurm " + plan.slurm_version + ": " + std::to_string(plan.packages.size()) + " packages",
       {{"slurm_version", plan.slurm_version},
        {"packages", plan.packages.size()},
        {"plan_ms", result.planned.plan_ms},
        {"root_hash", plan.root().hash}});
  // The artifact's place; a valid signed artifact of this very plan there ends the run now.
  const ToolchainRelease& release = resolved.image.release;
  ArtifactInfo info;
  info.slurm_version = plan.slurm_version;
  info.toolchain = release.name;
  info.toolchain_family = release.family;
  info.os_name = release.os_name;
  info.arch = plan.root().toolchain.arch;
  info.gpu = request.gpu;
  info.install_root = fs::path(plan.request.prefix).parent_path().string();
  info.with_dev = request.with_dev;
  const nlohmann::json view_policy = artifact_view_policy(plan, request.with_dev);
  const std::string basename = artifact_basename(info);
  const fs::path output_root =
      request.output ? *request.output : fs::path(config.cache_dir) / "builds";
  const fs::path output_dir = artifact_output_dir(output_root, plan);
  CacheChainRequest cr;
  cr.local_cache = request.local_cache;
  cr.no_cache = request.no_cache;
  cr.signing_key = request.signing_key;
  CacheChainSetup cache = make_cache_chain(app, cr);
  if (!cache.signer) {
    log().warn(
        "no signing key configured (signing.key_id): new cache entries and the artifact are "
        "unsigned, and a rerun reuses them only with signing.allow_unsigned: true");
  }
  // --publish: the remote writable layers, checked before any work.
  std::vector<CacheProvider*> publish_to;
  if (request.publish != PublishPolicy::kNone) {
    publish_to = publish_targets(cache);
    if (publish_to.empty()) throw_no_publish_target(cache, request.publish);
  }
  // The one trust anchor of the config, the same the cache chain verifies entries with.
  const GpgTrust trust = cache.verifier->trust();
  auto run_verify = [&]() {
    emit("verify", "start", "verify --deep " + result.artifact.filename().string());
    VerifyOptions vopt;
    vopt.deep = true;
    vopt.trust = trust;
    result.verify = verify_artifact(result.artifact, vopt);
    const VerifyReport& v = *result.verify;
    if (!v.ok()) {
      throw VerificationError(
          std::to_string(v.problems.size()) + " problem(s) in the new artifact:\n" +
              format_problem_table(v.problems),
          {{"stage", "verify"},
           {"artifact", result.artifact.string()},
           {"first", v.problems.front().file + ": " + v.problems.front().problem}},
          "do not install it; the problems name the files (see docs/relocation.md), fix the "
          "recipe or the release's system_libraries and rebuild");
    }
    emit("verify", "done",
         "ok: signed by " + v.signer + ", " + std::to_string(v.elf_checked) +
             " ELF files checked, " + std::to_string(v.warnings.size()) + " warning(s)",
         {{"signer", v.signer}, {"elf_checked", v.elf_checked}, {"warnings", v.warnings.size()}});
  };
  // 8. publish: the plan's entries (from this run's copies, else through the chain) to every
  // remote writable layer that lacks them; with "all" also the artifact's files.
  auto run_publish = [&](const BuildReport* report) {
    if (request.publish == PublishPolicy::kNone) return;
    std::string names;
    for (const auto* t : publish_to) names += (names.empty() ? "" : ", ") + t->name();
    emit("publish", "start", "publishing (" + to_string(request.publish) + ") to " + names,
         {{"policy", to_string(request.publish)}, {"layers", names}});
    const fs::path scratch =
        fs::path(config.cache_dir) / "work" / ("publish-" + std::to_string(::getpid()));
    struct RemoveScratch {
      fs::path dir;
      ~RemoveScratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    } remove_scratch{scratch};
    ArtifactPublisher publisher(
        *cache.chain, publish_to, scratch, cache.signer.get(),
        [&](const std::string& layer, const std::string& key, std::uint64_t bytes) {
          emit("publish", "upload", layer + ": " + key,
               {{"layer", layer}, {"key", key}, {"bytes", bytes}});
        });
    for (const auto& p : plan.packages) {
      if (p.origin != Origin::kSource) continue;
      CacheEntryKey key = entry_key_for(p);
      const PackageOutcome* outcome = nullptr;
      if (report != nullptr) {
        for (const auto& o : report->packages) {
          if (o.name == p.name) outcome = &o;
        }
      }
      if (outcome != nullptr) key = outcome->key;
      publisher.publish_entry(key, [&]() -> Expected<CacheEntryFiles> {
        std::error_code ec;
        if (report != nullptr) {
          // This run's verified copy (built, or fetched from a layer).
          auto files = CacheEntryFiles::under(report->entries_dir, key);
          if (fs::is_regular_file(files.tarball, ec) && fs::is_regular_file(files.manifest, ec)) {
            if (!fs::is_regular_file(files.signature, ec)) files.signature.clear();
            return files;
          }
        }
        if (auto hit = cache.chain->get(key, scratch / "entries")) return hit->files;
        return Failure::not_found(
            "the entry is in no readable cache layer (rebuild it: build-slurm --no-cache "
            "--publish " +
            to_string(request.publish) + ")");
      });
    }
    if (request.publish == PublishPolicy::kAll) {
      publisher.publish_files(artifact_publish_prefix(release.name, plan.slurm_version, info.arch),
                              artifact_publish_files(result.artifact));
    }
    result.publish = publisher.report();
    const PublishReport& pr = *result.publish;
    std::size_t entries_up = 0;
    std::size_t files_up = 0;
    std::uint64_t bytes = 0;
    for (const auto& l : pr.layers) {
      entries_up += l.entries_uploaded.size();
      files_up += l.files_uploaded.size();
      bytes += l.bytes_uploaded;
    }
    emit("publish", pr.failed() ? "failed" : "done",
         std::to_string(entries_up) + " entr" + (entries_up == 1 ? "y" : "ies") + " and " +
             std::to_string(files_up) + " artifact file(s) uploaded (" + std::to_string(bytes) +
             " bytes) to " + names + (pr.failed() ? "; some layers failed" : ""),
         {{"uploaded", pr.uploaded()}, {"bytes", bytes}, {"layers", pr.to_json()}});
    publisher.throw_if_failed(result.artifact);
  };
  if (!request.no_cache) {
    if (auto existing =
            find_valid_artifact(output_dir, basename, plan.root().hash, trust, view_policy)) {
      result.existed = true;
      result.artifact = *existing;
      result.provenance = provenance_path_for(*existing);
      result.checksums = output_dir / "SHA256SUMS";
      emit("artifact", "exists",
           "a valid signed artifact of this plan exists: " + existing->string(),
           {{"artifact", existing->string()}, {"root_hash", plan.root().hash}});
      if (request.verify) run_verify();
      run_publish(nullptr);
      return result;
    }
  }

  // 2. sources
  emit("fetch", "start", "fetching and verifying sources");
  FetchOptions fo;
  SourceFetcher fetcher(config.cache_dir, fo);
  auto fetched = fetcher.fetch_all(SourceFetcher::items_for(plan));
  std::size_t downloaded = 0;
  for (const auto& f : fetched) downloaded += f.was_cached ? 0 : 1;
  emit("fetch", "done",
       std::to_string(fetched.size()) + " source archive(s) verified (" +
           std::to_string(downloaded) + " downloaded)",
       {{"sources", fetched.size()}, {"downloaded", downloaded}});

  // 3. toolchain image
  auto make_backend = [&app, backend]() { return app.container_backend(backend); };
  emit("image", "start", "preparing the build image " + result.planned.image_tag);
  std::string image_id;
  ImagePackageList image_packages;
  {
    auto engine = make_backend();
    engine->info();
    ToolchainImageRequest ireq = resolved.image;
    if (live != nullptr) {
      ireq.progress = [live](std::string_view line) { *live << "  | " << line << "\n"; };
    }
    auto image = prepare_toolchain_image(*engine, ireq);
    result.image = image.tag;
    if (auto inspected = engine->inspect_image(image.tag)) image_id = inspected->id;
    // Reproducible builds: what the image holds, for provenance (read once per image id).
    image_packages = image_package_list(*engine, image.tag, image_id, config.cache_dir);
    emit("image", "done", (image.reused ? "reused " : "built ") + image.tag,
         {{"image", image.tag}, {"reused", image.reused}});
  }

  // 4. packages: the cache chain, then builds
  BuildExecutorOptions eo;
  eo.cache_dir = config.cache_dir;
  eo.image = result.image;
  eo.backend_command = backend;
  const int jobs = request.jobs > 0 ? request.jobs : config.build.jobs;
  // --jobs J: up to J/2 packages at once (at most 4), sharing the J make jobs.
  eo.parallel = jobs >= 4 ? std::min(4, jobs / 2) : 1;
  eo.jobs = jobs > 0 ? std::max(1, jobs / eo.parallel) : 0;
  eo.cpus = config.build.cpus;
  eo.memory_bytes = parse_byte_size(config.build.memory);
  eo.shm_bytes = parse_byte_size(config.build.shm);
  eo.pids_limit = config.build.pids;
  eo.network = config.build.network;
  eo.ccache = config.build.ccache;
  eo.ccache_max_bytes = parse_byte_size(config.build.ccache_max_size);
  eo.incremental = config.build.incremental && !request.no_cache;
  eo.signer = cache.signer.get();
  eo.live = live;
  const std::size_t source_packages = SourceFetcher::items_for(plan).size();
  emit("build", "start", "building or fetching " + std::to_string(source_packages) + " package(s)",
       {{"packages", source_packages}, {"parallel", eo.parallel}, {"jobs", eo.jobs}});
  BuildExecutor executor(make_backend, *cache.chain, eo);
  // A GPU build whose Slurm step fails most often lacks a feature's -dev files (configure refuses
  // --with-nvml / --with-rsmi / --with-oneapi): name the features next to the package and log.
  auto run_executor = [&](const BuildEventSink& sink) {
    try {
      return executor.run(plan, sink);
    } catch (BuildError& e) {
      const auto features = request.feature_names();
      if (!features.empty() && e.context_value("package") == "slurm") {
        std::string list = join(features, ",");
        e.with("features", list);
        std::string why = e.remediation();
        why += std::string(why.empty() ? "" : "; ") +
               "if configure cannot find a GPU library, the image lacks that feature's -dev "
               "package: check the release's gpu_packages (docs/gpu.md)";
        e.hint(why);
      }
      throw;
    }
  };
  result.report = run_executor([&](const BuildEvent& be) {
    if (!events) return;
    PipelineEvent e;
    e.stage = "build";
    e.kind = be.kind;
    e.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    e.package = be;
    e.message = be.kind + " " + be.package + " " + be.version + " (" + be.hash12 + ")";
    events(e);
  });
  nlohmann::json layer_hits = nlohmann::json::object();
  for (const auto& o : result.report.packages) {
    if (o.status == PackageStatus::kCached) {
      layer_hits[o.layer] = layer_hits.value(o.layer, 0) + 1;
    }
  }
  emit("build", "done",
       std::to_string(result.report.built()) + " built, " + std::to_string(result.report.cached()) +
           " from the cache",
       {{"built", result.report.built()},
        {"cached", result.report.cached()},
        {"hits", layer_hits},
        {"build_id", result.report.build_id},
        {"logs", result.report.log_dir.string()}});

  // The run's work folder (entry copies, unpacked trees, staging) goes when the run ends, whatever
  // happens: the cache layers hold the entries, the artifact is in the output folder. It is
  // renamed aside at once and removed by a detached process (remove_aside).
  const fs::path work = result.report.entries_dir.parent_path();
  struct RemoveWork {
    fs::path dir;
    ~RemoveWork() { remove_aside(dir); }
  } remove_work{work};

  // 5. assembly
  emit("assemble", "start", "assembling the view");
  const fs::path staging = work / "artifact";
  const fs::path view = staging / "view";
  std::vector<ViewEntry> entries;
  for (const auto& o : result.report.packages) {
    const PackageSpec* spec = plan.find(o.name);
    if (spec == nullptr || spec->origin != Origin::kSource || !spec->runtime) continue;
    const fs::path tree = work / "trees" / o.name;
    auto unpacked = executor.unpack_entry(o, tree);  // verified again, pinned to the run's entry
    if (!unpacked) {
      throw PackagingError("cannot unpack the entry of " + o.name + " " + o.version,
                           {{"stage", "assemble"},
                            {"package", o.name},
                            {"entry", o.tarball.string()},
                            {"reason", unpacked.error().message}},
                           "check it with 'slurm-factory cache verify --remove', then rerun");
    }
    entries.push_back({o.name, o.version, tree, spec->public_programs});
  }
  ViewAssemblyOptions vo;
  vo.keep_dev = request.with_dev;
  vo.system_libraries = release.system_libraries;
  for (const auto& p : plan.packages) {  // libraries dlopened at run time (recipe runtime_dlopen)
    if (!p.runtime) continue;
    for (const auto& so : p.runtime_dlopen) vo.dlopened.push_back({so, p.name});
  }
  ViewAssemblyReport view_report = assemble_view(entries, view, vo);
  SystemLibraryExport exported;
  if (!view_report.unresolved.empty()) {
    // Libraries of `from: system` dependencies: copied out of the build image, then assembled
    // again so that the assembler bundles them (and what they need) like the rest.
    SystemLibraryExportRequest xr;
    xr.image = result.image;
    std::set<std::string> sonames;
    for (const auto& u : view_report.unresolved) sonames.insert(u.soname);
    xr.sonames.assign(sonames.begin(), sonames.end());
    xr.out_dir = work / "system-libraries";
    xr.log_file = result.report.log_dir / "export-system-libraries.log";
    std::string names = join(xr.sonames, " ");
    emit("assemble", "export",
         "copying " + std::to_string(xr.sonames.size()) + " system librar" +
             (xr.sonames.size() == 1 ? "y" : "ies") + " out of " + result.image + ": " + names,
         {{"sonames", xr.sonames}, {"image", result.image}});
    auto engine = make_backend();
    exported = export_system_libraries(*engine, xr);
    vo.system_library_dirs = {exported.dir};
    std::error_code ec;
    fs::remove_all(view, ec);
    view_report = assemble_view(entries, view, vo);
  }
  if (!view_report.unresolved.empty()) {
    std::string list;
    for (const auto& u : view_report.unresolved) {
      list += (list.empty() ? "" : ", ") + u.soname + " (needed by " + u.needed_by + ")";
    }
    throw PackagingError(
        std::to_string(view_report.unresolved.size()) +
            " shared librar(ies) the view needs are in no package, not in the build image and "
            "not on the toolchain's system-library list: " +
            list,
        {{"stage", "assemble"},
         {"toolchain", release.name},
         {"image", result.image},
         {"export log", (result.report.log_dir / "export-system-libraries.log").string()}},
        "add the -dev package that provides them to the recipe's system_dependencies (and the "
        "release's dev_packages), or, when every host of " +
            release.name + " has them, to the release's system_libraries (" + release.origin + ")");
  }
  // The names plugins pass to dlopen, read from the built plugins: each library of the view a
  // plugin dlopens is carried under exactly that name (Slurm 22.05's mpi_pmix: "libpmix.so").
  DlopenNameOptions dno;
  dno.declared = vo.dlopened;
  const DlopenNameReport dlopen_report = provide_dlopen_names(view, dno);
  nlohmann::json view_json = view_report.to_json();
  view_json["dlopen_names"] = dlopen_report.to_json();
  for (auto& b : view_json["bundled"]) {
    auto it = exported.found.find(b["soname"].get<std::string>());
    b["from"] = result.image + ":" + (it != exported.found.end() ? it->second : std::string("?"));
  }
  // Every expected plugin (the recipes' expected_plugins, the features' required plugins) must be
  // there: configure quietly builds without a plugin whose -dev files it does not find.
  std::vector<const Feature*> features;
  for (const auto& f : resolved.features) features.push_back(f.get());
  PluginCheckContext pc;
  pc.package = plan.root().name + " " + plan.root().version;
  pc.release_origin = release.origin;
  for (const auto& o : result.report.packages) {
    if (o.name == plan.root().name) {
      pc.log = o.log_file.string();
      pc.entry = o.key.manifest();
    }
  }
  require_plugins(view, plan.expected_plugins, features, pc);
  emit("assemble", "done",
       std::to_string(view_report.files) + " files, " + std::to_string(view_report.bundled.size()) +
           " system librar" + (view_report.bundled.size() == 1 ? "y" : "ies") + " bundled",
       {{"files", view_report.files},
        {"bundled", view_json["bundled"]},
        {"dlopen_names", view_json["dlopen_names"]},
        {"dropped", view_report.dropped.size()},
        {"private", view_report.private_files.size()}});

  // 6. package and sign
  emit("package", "start", "packaging " + basename);
  ArtifactPackagingRequest pr;
  pr.info = info;
  pr.staging = staging;
  pr.output_dir = output_dir;
  pr.system_libraries = release.system_libraries;
  pr.relocation_fallbacks = relocation_fallbacks(plan.packages);
  pr.signer = cache.signer.get();
  nlohmann::json packages = nlohmann::json::array();
  std::map<std::string, const FetchResult*> fetched_by_name;
  for (const auto& f : fetched) fetched_by_name[f.item.name] = &f;
  for (const auto& p : plan.packages) {
    nlohmann::json j{{"name", p.name},
                     {"version", p.version},
                     {"origin", to_string(p.origin)},
                     {"runtime", p.runtime}};
    if (p.origin == Origin::kSource) {
      j["hash"] = p.hash;
      j["source_sha256"] = p.source.sha256;
      // Reproducible builds: everything the package hash covers, for `rebuild` to compare.
      j["inputs"] = canonical_description(p);
      if (auto it = fetched_by_name.find(p.name); it != fetched_by_name.end()) {
        if (!it->second->url.empty()) j["mirror"] = it->second->url;
      }
      for (const auto& o : result.report.packages) {
        if (o.name != p.name) continue;
        j["status"] = to_string(o.status);
        if (!o.layer.empty()) j["layer"] = o.layer;
        if (o.source_date_epoch) j["source_date_epoch"] = *o.source_date_epoch;
      }
    } else {
      j["system_packages"] = p.system_package_names;
    }
    packages.push_back(std::move(j));
  }
  pr.provenance = {
      {"plan",
       {{"root_hash", plan.root().hash},
        {"build_id", result.report.build_id},
        {"request",
         {{"slurm_version", request.slurm_version},
          {"toolchain", request.toolchain},
          {"gpu", request.gpu},
          {"with_dev", request.with_dev}}},
        {"view_policy", view_policy}}},
      {"packages", packages},
      {"system_packages", plan.system_package_names},
      {"toolchain",
       {{"image", result.image},
        {"image_id", image_id},
        {"image_hash", plan.request.toolchain_image_hash},
        {"image_identity", image_identity(plan.request.toolchain_image_hash, image_packages)},
        {"image_packages_sha256", image_packages.sha256},
        {"image_packages", image_packages.packages}}},
      {"features", request.feature_names()},
      {"view", view_json}};
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec) {
    throw PackagingError("cannot create the output folder: " + ec.message(),
                         {{"stage", "package"}, {"folder", output_dir.string()}},
                         "choose a writable folder with --output");
  }
  auto packager = app.packager("tarball");
  const auto packaged = package_artifact(pr, *packager, TemplateRenderer());
  result.artifact = packaged.artifact;
  result.provenance = packaged.provenance;
  result.checksums = packaged.checksums;
  std::size_t unhandled = 0;
  for (const auto& c : packaged.compiled_paths) unhandled += c.handled ? 0 : 1;
  emit("package", "done",
       result.artifact.string() + " (" + std::to_string(fs::file_size(result.artifact)) +
           " bytes, " + (cache.signer ? "signed" : "unsigned") + ")",
       {{"artifact", result.artifact.string()},
        {"provenance", result.provenance.string()},
        {"checksums", result.checksums.string()},
        {"size", fs::file_size(result.artifact)},
        {"signed", cache.signer != nullptr},
        {"compiled_paths_unhandled", unhandled}});

  // 7. verify --deep
  if (request.verify) run_verify();
  run_publish(&result.report);
  return result;
}

}  // namespace sf
