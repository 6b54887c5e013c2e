// `slurm-factory toolchain prepare NAME [--backend B]` (also `toolchains prepare`): build or reuse
// a release's build image. `slurm-factory clean [--full] [--dry-run]`: remove the containers (and
// with --full the images) that carry slurm-factory's labels, and nothing else.
// `slurm-factory toolchain run NAME -- COMMAND...`: run a command in a hermetic container from the
// toolchain's image (the way package builds run), passing its exit code through.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "app/app.hpp"
#include "cache/ccache_prune.hpp"
#include "cli/command_groups.hpp"
#include "config/build_request.hpp"
#include "containers/container_clean.hpp"
#include "containers/hermetic_runner.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/shell_quote.hpp"
#include "support/input_validation.hpp"
#include "support/live_tail.hpp"
#include "toolchains/toolchain_image.hpp"
#include "toolchains/toolchain_resolution.hpp"

namespace po = boost::program_options;

namespace sf::cli {
namespace {

std::unique_ptr<ContainerBackend> make_backend(App& app, const std::string& requested) {
  return app.container_backend(requested);
}

int run_prepare(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory toolchain prepare NAME [--backend docker|podman] [options]",
      "Builds the build image of toolchain release NAME from its setup script on top of its base "
      "image, tagged slurm-factory/toolchain-NAME:<hash12>. The hash covers everything that "
      "defines the image, so an existing tag is reused at once. When the base image cannot be "
      "pulled and the release can bootstrap offline (debian: mmdebstrap from the configured "
      "mirror), a minimal rootfs is bootstrapped, imported as the base image, and reported.",
      "  slurm-factory toolchain prepare bookworm\n"
      "  slurm-factory toolchain prepare noble --backend podman\n"
      "  slurm-factory toolchain prepare trixie --arch arm64\n"};
  po::options_description opts("Options");
  std::string name;
  std::string backend_name;
  std::vector<std::string> gpu;
  std::string arch;
  opts.add_options()("name", po::value(&name), "toolchain release")(
      "backend", po::value(&backend_name), "container backend (default: config default_backend)")(
      "gpu", po::value(&gpu)->composing(), "add a GPU feature's packages (cuda, rocm, oneapi)")(
      "arch", po::value(&arch),
      "target architecture (default: this host's); another is the release's cross-build image");
  po::positional_options_description pos;
  pos.add("name", 1);
  if (!parse_command(inv, spec, opts, pos)) return 0;
  if (name.empty()) {
    throw UsageError("toolchain prepare needs a release name", {},
                     "list them with `slurm-factory toolchains list`");
  }
  App app(inv.global);
  const std::vector<std::string> features = gpu_feature_names(parse_gpu_flavours(gpu));
  // The same resolution as plan and build-slurm: the same request gives the same image tag.
  ResolvedToolchain resolved = resolve_toolchain(app, name, features, arch);
  auto backend = make_backend(app, backend_name);
  ToolchainImageRequest req = resolved.image;
  // Build output: the last lines redrawn on a terminal, plain lines elsewhere, nothing with
  // --json or -q (the full output is in the log file either way).
  std::optional<LiveTail> tail;
  if (!inv.global.quiet && !inv.global.json) {
    tail.emplace(inv.err, stream_is_terminal(inv.err));
    req.progress = [&tail](std::string_view line) { tail->line(line); };
  }
  const auto image = prepare_toolchain_image(*backend, req);
  if (tail) tail->finish();
  if (inv.global.json) {
    inv.out << nlohmann::json{{"toolchain", name},
                              {"image", image.tag},
                              {"hash", image.hash},
                              {"base_image", image.base_image},
                              {"reused", image.reused},
                              {"bootstrapped_base", image.bootstrapped_base},
                              {"backend", backend->name()},
                              {"log_file", image.log_file.string()},
                              {"seconds", static_cast<double>(image.elapsed.count()) / 1000.0}}
                   .dump()
            << "\n";
  } else {
    inv.out << (image.reused ? "reused " : "built ") << image.tag << " (" << backend->name() << ", "
            << static_cast<double>(image.elapsed.count()) / 1000.0 << " s)";
    if (image.bootstrapped_base) inv.out << " on bootstrapped base " << image.base_image;
    inv.out << "\n";
  }
  return 0;
}

int run_clean(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory clean [--full] [--dry-run] [--force] [--backend docker|podman] "
      "[--label KEY=VALUE]",
      "Removes the containers that carry slurm-factory's label "
      "(org.slurm-factory.managed=true) and are not running: a running one may be the build of "
      "another slurm-factory (a pipeline, another shell), so it is kept and named; --force "
      "removes it too, stopping that build. With --full its images too (toolchain "
      "and bootstrapped base images) and the compiler cache folders "
      "(<cache_dir>/ccache/<image hash>) of toolchain images no longer on this engine. "
      "Nothing without the label is touched. Prints what it removed.",
      "  slurm-factory clean --dry-run\n  slurm-factory clean --full\n"
      "  slurm-factory clean --force --label org.slurm-factory.build-id=20261206T105302Z-3656\n"
      "  slurm-factory clean --backend podman --label org.slurm-factory.kind=build\n"};
  po::options_description opts("Options");
  bool full = false;
  bool dry = false;
  bool force = false;
  std::string backend_name;
  std::vector<std::string> labels;
  opts.add_options()("full", po::bool_switch(&full), "remove images too")(
      "dry-run", po::bool_switch(&dry), "list what would be removed, remove nothing")(
      "force", po::bool_switch(&force),
      "remove running containers too (a build in progress elsewhere is stopped)")(
      "backend", po::value(&backend_name), "container backend (default: config default_backend)")(
      "label", po::value(&labels)->composing(),
      "KEY=VALUE: only objects that also carry this label (repeatable)");
  if (!parse_command(inv, spec, opts)) return 0;
  CleanOptions options;
  options.full = full;
  options.dry_run = dry;
  options.force = force;
  for (const auto& l : labels) {
    const auto eq = l.find('=');
    if (eq == 0 || l.empty()) {
      throw UsageError("--label needs KEY=VALUE (or KEY), got \"" + l + "\"", {},
                       "for example --label org.slurm-factory.kind=build");
    }
    options.selector[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  App app(inv.global);
  auto backend = make_backend(app, backend_name);
  const auto report = clean_managed_objects(*backend, options);
  const std::string verb = dry ? "would remove" : "removed";
  // The compiler caches (build.ccache) of toolchain images that are gone now (or would be).
  CcachePruneReport ccache;
  if (full) {
    std::vector<std::string> live;
    for (const auto& i : backend->list_images({{kManagedImageLabel, "true"}})) {
      const bool removed = std::any_of(report.images.begin(), report.images.end(),
                                       [&](const ImageSummary& r) { return r.id == i.id; });
      if (!removed) live.insert(live.end(), i.tags.begin(), i.tags.end());
    }
    ccache = prune_ccache_dirs(app.config().cache_dir, live, dry);
    // The kept build trees (build.incremental) of those images: only disk space too.
    auto trees = prune_ccache_dirs(app.config().cache_dir, live, dry, "buildtrees");
    ccache.removed.insert(ccache.removed.end(), trees.removed.begin(), trees.removed.end());
    ccache.failures.insert(ccache.failures.end(), trees.failures.begin(), trees.failures.end());
  }
  if (inv.global.json) {
    nlohmann::json j{{"backend", backend->name()}, {"dry_run", dry}};
    j["containers"] = nlohmann::json::array();
    for (const auto& c : report.containers) j["containers"].push_back(c.id);
    j["kept_running"] = nlohmann::json::array();
    for (const auto& c : report.kept_running) j["kept_running"].push_back(c.id);
    j["images"] = nlohmann::json::array();
    for (const auto& i : report.images) j["images"].push_back(i.tags.empty() ? i.id : i.tags[0]);
    j["ccache"] = nlohmann::json::array();
    for (const auto& d : ccache.removed) j["ccache"].push_back(d.string());
    j["failures"] = report.failures;
    for (const auto& f : ccache.failures) j["failures"].push_back(f);
    inv.out << j.dump() << "\n";
  } else {
    auto describe = [](const ContainerSummary& c) {
      std::string name = c.names.empty() ? "" : c.names[0];
      if (!name.empty() && name[0] == '/') name.erase(0, 1);  // docker's "/name"
      std::string image = c.image;
      if (image.rfind("sha256:", 0) == 0) image = image.substr(7, 12);
      // What the engine says is shown, never interpreted: no terminal escapes through it.
      return printable(c.id.substr(0, 12)) + " " + printable(name) + " (image " + printable(image) +
             ")";
    };
    for (const auto& c : report.containers) inv.out << verb << " container " << describe(c) << "\n";
    for (const auto& c : report.kept_running) {
      auto build = c.labels.find(kBuildIdLabel);
      inv.out << "kept running container " << describe(c)
              << (build == c.labels.end() ? "" : ", build " + printable(build->second))
              << ": it may be another slurm-factory's build in progress; --force removes it\n";
    }
    for (const auto& i : report.images) {
      std::string refs;
      for (const auto& t : i.tags) {
        if (t != "<none>:<none>") refs += (refs.empty() ? "" : ", ") + t;
      }
      const std::string id = i.id.rfind("sha256:", 0) == 0 ? i.id.substr(7, 12) : i.id;
      inv.out << verb << " image " << (refs.empty() ? id : refs + " (" + id + ")") << "\n";
    }
    for (const auto& d : ccache.removed) {
      const bool tree = d.parent_path().filename() == "buildtrees";
      inv.out << verb << (tree ? " build trees " : " compiler cache ") << d.string() << "\n";
    }
    if (report.containers.empty() && report.images.empty() && ccache.removed.empty()) {
      inv.out << "nothing to remove on " << backend->name() << "\n";
    }
  }
  if (!report.failures.empty() || !ccache.failures.empty()) {
    ErrorContext ctx;
    for (const auto& f : report.failures) ctx.emplace_back("failed", f);
    for (const auto& f : ccache.failures) ctx.emplace_back("failed", f);
    throw ContainerError("clean could not remove every object", ctx,
                         "stop what uses them and run clean again");
  }
  return 0;
}

int run_toolchain_run(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory toolchain run NAME [--backend B] [--timeout S] [--gpu G] -- COMMAND [ARG...]",
      "Runs COMMAND (with /bin/sh -c when it is one word with spaces) in a fresh hermetic "
      "container "
      "from toolchain NAME's build image, the way package builds run: as the builder user, "
      "network off, every capability dropped, under the configured limits. The image is prepared "
      "first (reused when it exists). Output is shown as a short live tail on a terminal and "
      "kept in <cache_dir>/logs/; the command's exit code is passed through. SIGINT/SIGTERM "
      "remove the container and exit 130/143.",
      "  slurm-factory toolchain run trixie -- gcc --version\n"
      "  slurm-factory toolchain run bookworm -- 'ldd --version | head -1'\n"};
  // Everything after "--" is the command, never options of ours.
  std::vector<std::string> command;
  auto dash = std::find(inv.args.begin(), inv.args.end(), "--");
  if (dash != inv.args.end()) {
    command.assign(dash + 1, inv.args.end());
    inv.args.erase(dash, inv.args.end());
  }
  po::options_description opts("Options");
  std::string name;
  std::string backend_name;
  std::vector<std::string> gpu;
  std::string arch;
  double timeout_s = 0;
  opts.add_options()("name", po::value(&name), "toolchain release")(
      "backend", po::value(&backend_name), "container backend (default: config default_backend)")(
      "timeout", po::value(&timeout_s), "kill the container after S seconds (default: none)")(
      "gpu", po::value(&gpu)->composing(), "use the image with a GPU feature's packages")(
      "arch", po::value(&arch), "use the cross-build image for this target architecture");
  po::positional_options_description pos;
  pos.add("name", 1);
  if (!parse_command(inv, spec, opts, pos)) return 0;
  if (name.empty() || command.empty()) {
    throw UsageError("toolchain run needs a release name and a command after --", {},
                     "for example: slurm-factory toolchain run trixie -- gcc --version");
  }
  App app(inv.global);
  const std::vector<std::string> features = gpu_feature_names(parse_gpu_flavours(gpu));
  ResolvedToolchain resolved = resolve_toolchain(app, name, features, arch);
  auto backend = make_backend(app, backend_name);
  const bool show = !inv.global.quiet && !inv.global.json;
  ToolchainImageRequest req = resolved.image;
  std::optional<LiveTail> tail;
  if (show) {
    tail.emplace(inv.err, stream_is_terminal(inv.err));
    req.progress = [&tail](std::string_view line) { tail->line(line); };
  }
  const auto image = prepare_toolchain_image(*backend, req);
  if (tail) tail->finish();

  HermeticRunSpec run;
  run.image = image.tag;
  run.script = command.size() == 1 ? command[0] : shell_join(command);
  const auto& build = app.config().build;
  run.cpus = build.cpus;
  run.memory_bytes = build.memory.empty() ? 0 : parse_byte_size(build.memory);
  run.shm_bytes = build.shm.empty() ? 0 : parse_byte_size(build.shm);
  run.pids_limit = build.pids;
  run.labels[kKindLabel] = "run";
  run.labels[kToolchainLabel] = name;
  run.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000));
  run.log_file = resolved.image.cache_dir / "logs" /
                 ("run-" + name + "-" + std::to_string(::getpid()) + ".log");
  run.live = show ? &inv.err : nullptr;
  run.check = false;
  run.context = {{"toolchain", name}};
  const auto result = run_hermetic(*backend, run);
  if (inv.global.json) {
    inv.out << nlohmann::json{{"toolchain", name},
                              {"image", image.tag},
                              {"backend", backend->name()},
                              {"exit_code", result.exit_code},
                              {"log_file", result.log_file.string()},
                              {"seconds", static_cast<double>(result.elapsed.count()) / 1000.0}}
                   .dump()
            << "\n";
  } else if (show) {
    inv.err << "exit code " << result.exit_code << " ("
            << static_cast<double>(result.elapsed.count()) / 1000.0
            << " s; log: " << result.log_file.string() << ")\n";
  }
  return result.exit_code;
}

}  // namespace

void add_container_commands(CommandTable& table) {
  table.add({{"toolchain", "prepare"}, "build or reuse a toolchain's build image", run_prepare});
  table.add({{"toolchains", "prepare"}, "build or reuse a toolchain's build image", run_prepare});
  table.add({{"toolchain", "run"},
             "run a command in a hermetic container of a toolchain",
             run_toolchain_run});
  table.add({{"clean"}, "remove slurm-factory's containers (--full: and images)", run_clean});
}

}  // namespace sf::cli
