// `slurm-factory toolchain prepare NAME [--backend B]` (also `toolchains prepare`): build or reuse
// a release's build image. `slurm-factory clean [--full] [--dry-run]`: remove the containers (and
// with --full the images) that carry slurm-factory's labels, and nothing else.
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "slurm_factory/core/app.hpp"
#include "slurm_factory/core/build_request.hpp"
#include "slurm_factory/core/cli/command_groups.hpp"
#include "slurm_factory/core/container_clean.hpp"
#include "slurm_factory/core/toolchain_image.hpp"
#include "slurm_factory/core/toolchain_resolution.hpp"
#include "slurm_factory/errors.hpp"

namespace po = boost::program_options;

namespace sf::cli {
namespace {

std::unique_ptr<ContainerBackend> make_backend(App& app, const std::string& requested) {
  const std::string name = requested.empty() ? app.config().default_backend : requested;
  const auto& all = app.config().backends;
  const nlohmann::json settings =
      all.is_object() && all.contains(name) ? all[name] : nlohmann::json::object();
  return app.plugins().make_container_backend(name, settings);
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
      "  slurm-factory toolchain prepare noble --backend podman\n"};
  po::options_description opts("Options");
  std::string name;
  std::string backend_name;
  std::vector<std::string> gpu;
  opts.add_options()("name", po::value(&name), "toolchain release")(
      "backend", po::value(&backend_name), "container backend (default: config default_backend)")(
      "gpu", po::value(&gpu)->composing(), "add a GPU feature's packages (cuda, rocm, oneapi)");
  po::positional_options_description pos;
  pos.add("name", 1);
  if (!parse_command(inv, spec, opts, pos)) return 0;
  if (name.empty()) {
    throw UsageError("toolchain prepare needs a release name", {},
                     "list them with `slurm-factory toolchains list`");
  }
  App app(inv.global);
  std::vector<std::string> features;
  for (const auto& g : parse_gpu_flavours(gpu)) features.push_back("gpu-" + g);
  // The same resolution as plan and build-slurm: the same request gives the same image tag.
  ResolvedToolchain resolved = resolve_toolchain(app, name, features);
  auto backend = make_backend(app, backend_name);
  ToolchainImageRequest req = resolved.image;
  const bool show = !inv.global.quiet && !inv.global.json;
  if (show) {
    req.progress = [&inv](std::string_view line) {
      inv.err << "  | " << line << "\n" << std::flush;
    };
  }
  const auto image = prepare_toolchain_image(*backend, req);
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
  CommandSpec spec{"slurm-factory clean [--full] [--dry-run] [--backend docker|podman]",
                   "Removes the containers that carry slurm-factory's label "
                   "(org.slurm-factory.managed=true), and with --full its images too (toolchain "
                   "and bootstrapped base images). Nothing without the label is touched. Prints "
                   "what it removed.",
                   "  slurm-factory clean --dry-run\n  slurm-factory clean --full\n"};
  po::options_description opts("Options");
  bool full = false;
  bool dry = false;
  std::string backend_name;
  opts.add_options()("full", po::bool_switch(&full), "remove images too")(
      "dry-run", po::bool_switch(&dry), "list what would be removed, remove nothing")(
      "backend", po::value(&backend_name), "container backend (default: config default_backend)");
  if (!parse_command(inv, spec, opts)) return 0;
  App app(inv.global);
  auto backend = make_backend(app, backend_name);
  CleanOptions options;
  options.full = full;
  options.dry_run = dry;
  const auto report = clean_managed_objects(*backend, options);
  const std::string verb = dry ? "would remove" : "removed";
  if (inv.global.json) {
    nlohmann::json j{{"backend", backend->name()}, {"dry_run", dry}};
    j["containers"] = nlohmann::json::array();
    for (const auto& c : report.containers) j["containers"].push_back(c.id);
    j["images"] = nlohmann::json::array();
    for (const auto& i : report.images) j["images"].push_back(i.tags.empty() ? i.id : i.tags[0]);
    j["failures"] = report.failures;
    inv.out << j.dump() << "\n";
  } else {
    for (const auto& c : report.containers) {
      inv.out << verb << " container " << c.id.substr(0, 12) << " "
              << (c.names.empty() ? "" : c.names[0]) << " (" << c.image << ")\n";
    }
    for (const auto& i : report.images) {
      inv.out << verb << " image " << (i.tags.empty() ? i.id : i.tags[0]) << "\n";
    }
    if (report.containers.empty() && report.images.empty()) {
      inv.out << "nothing to remove on " << backend->name() << "\n";
    }
  }
  if (!report.failures.empty()) {
    ErrorContext ctx;
    for (const auto& f : report.failures) ctx.emplace_back("failed", f);
    throw ContainerError("clean could not remove every object", ctx,
                         "stop what uses them and run clean again");
  }
  return 0;
}

}  // namespace

void add_container_commands(CommandTable& table) {
  table.add({{"toolchain", "prepare"}, "build or reuse a toolchain's build image", run_prepare});
  table.add({{"toolchains", "prepare"}, "build or reuse a toolchain's build image", run_prepare});
  table.add({{"clean"}, "remove slurm-factory's containers (--full: and images)", run_clean});
}

}  // namespace sf::cli
