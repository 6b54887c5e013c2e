// `slurm-factory build-slurm`: the main job.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "app/app.hpp"
#include "cache/cache_chain.hpp"
#include "cli/command_groups.hpp"
#include "config/build_request.hpp"
#include "pipeline/build_pipeline.hpp"
#include "pipeline/cache_states.hpp"
#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"
#include "support/input_validation.hpp"
#include "support/strings.hpp"

namespace po = boost::program_options;

namespace sf::cli {
namespace {

const CommandSpec kSpec{
    "slurm-factory build-slurm [options]",
    "Builds a relocatable, signed Slurm package for one target OS (toolchain) inside a container "
    "of\n"
    "that OS: plans the packages, fetches and verifies sources, builds each package that no cache\n"
    "layer holds, assembles the view with modulefiles and install assets, and writes\n"
    "slurm-<version>-<toolchain>[-<gpu>]-<arch>-software.tar.zst with SHA256SUMS, a detached .asc\n"
    "signature and provenance.json to <output>/<toolchain>/<version>/<arch>/ (--output, default\n"
    "<cache>/builds). When a valid artifact of the same plan, signed by a trusted key, is already\n"
    "there, it says so and returns at once. --verify runs 'verify --deep' on the result.\n"
    "--publish cache|all then uploads what the writable remote cache layers (s3) lack: the plan's\n"
    "entries, and with 'all' the artifact files under <toolchain>/<version>/<arch>/ there.\n"
    "The view holds the runtime only (no headers, static or libtool archives, pkg-config files)\n"
    "and, in bin/ and sbin/, only Slurm's and munge's programs; --with-dev keeps the development\n"
    "files and names the artifact slurm-...-<arch>-dev.",
    "  slurm-factory build-slurm --slurm-version 24.11 --toolchain trixie\n"
    "  slurm-factory build-slurm --slurm-version 24.11.5 --toolchain noble --gpu cuda\n"
    "  slurm-factory build-slurm --toolchain rockylinux9 --gpu cuda,rocm --publish cache\n"
    "  slurm-factory build-slurm --toolchain bookworm --backend podman --dry-run\n"
    "  slurm-factory build-slurm --slurm-version 24.11 --toolchain trixie --with-dev\n"
    "  slurm-factory build-slurm --slurm-version 24.11 --toolchain trixie --arch arm64\n"};

// Boost.Program_options takes an implicit value only in the --gpu=VALUE form; accept "--gpu cuda".
std::vector<std::string> join_gpu_values(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--gpu" && i + 1 < args.size() && !args[i + 1].empty() &&
        args[i + 1][0] != '-') {
      out.push_back("--gpu=" + args[i + 1]);
      ++i;
    } else {
      out.push_back(args[i]);
    }
  }
  return out;
}

BuildRequest request_from(const po::variables_map& vm) {
  BuildRequest r;
  r.slurm_version = check_slurm_version_syntax(vm["slurm-version"].as<std::string>());
  r.toolchain =
      check_input(InputKind::kToolchainName, vm["toolchain"].as<std::string>(), "--toolchain");
  if (vm.count("gpu") != 0U) r.gpu = parse_gpu_flavours(vm["gpu"].as<std::vector<std::string>>());
  if (vm.count("arch") != 0U)
    r.arch = check_input(InputKind::kArch, vm["arch"].as<std::string>(), "--arch");
  r.publish = parse_publish_policy(vm["publish"].as<std::string>());
  if (vm.count("signing-key") != 0U) r.signing_key = vm["signing-key"].as<std::string>();
  if (vm.count("local-cache") != 0U) r.local_cache = vm["local-cache"].as<std::string>();
  r.no_cache = vm.count("no-cache") != 0U;
  r.verify = vm.count("verify") != 0U;
  if (vm.count("backend") != 0U) r.backend = vm["backend"].as<std::string>();
  if (vm.count("jobs") != 0U) {
    r.jobs = vm["jobs"].as<int>();
    if (r.jobs < 1) {
      throw UsageError("invalid --jobs value " + std::to_string(r.jobs), {},
                       "give a positive number of parallel jobs, e.g. --jobs 4");
    }
  }
  if (vm.count("output") != 0U) r.output = vm["output"].as<std::string>();
  r.dry_run = vm.count("dry-run") != 0U;
  r.with_dev = vm.count("with-dev") != 0U;
  if (vm.count("packager") != 0U) {
    r.packagers = parse_packagers(vm["packager"].as<std::vector<std::string>>(), "--packager");
  }
  return r;
}

void print_plan(std::ostream& out, const PlannedBuild& planned,
                std::map<std::string, nlohmann::json>& cached) {
  const Plan& plan = planned.plan;
  out << fmt::format("Slurm {} for {} ({}), build image {}, prefix {}\n", plan.slurm_version,
                     plan.request.toolchain.name, plan.root().toolchain.arch, planned.image_tag,
                     plan.request.prefix);
  out << fmt::format("{:<13} {:<10} {:<12}  {:<6}  {:<7}  {}\n", "NAME", "VERSION", "HASH", "FROM",
                     "ROLE", "CACHE");
  for (const auto& p : plan.packages) {
    std::string cache = "-";
    if (p.origin == Origin::kSource) {
      cache.clear();
      for (const auto& [layer, state] : cached[p.name].items()) {
        cache += (cache.empty() ? "" : ", ") + layer + ": " + state.get<std::string>();
      }
    }
    out << fmt::format("{:<13} {:<10} {:<12}  {:<6}  {:<7}  {}\n", p.name, p.version, p.hash12(),
                       to_string(p.origin), p.runtime ? "runtime" : "build", cache);
  }
  out << fmt::format("{} packages, planned in {:.1f} ms (dry run: nothing built)\n",
                     plan.packages.size(), planned.plan_ms);
}

int run_build_slurm(Invocation& inv) {
  po::options_description opts("Options");
  opts.add_options()(
      "slurm-version", po::value<std::string>()->default_value("25.11"),
      "Slurm series (22.05, 23.11, 24.11, 25.11, 26.05: the newest known patch) or a full x.y.z")(
      "toolchain", po::value<std::string>()->default_value("noble"),
      "target OS release: noble, jammy, resolute, rockylinux8, rockylinux9, rockylinux10, "
      "bookworm, trixie, or a site release from the config ('slurm-factory toolchains list')")(
      "gpu", po::value<std::vector<std::string>>()->implicit_value({""}, "cuda")->composing(),
      "GPU support: cuda (NVML), rocm (RSMI), oneapi (Level Zero); combine with commas; "
      "--gpu alone means cuda")(
      "arch", po::value<std::string>(),
      "target architecture: amd64 or arm64 (default: this host's). Another than the host's is a "
      "cross build in an image of the host's architecture (Debian toolchains: "
      "crossbuild-essential; docs/arm64.md)")(
      "packager", po::value<std::vector<std::string>>()->composing(),
      "also write these outputs beside the tarball (which is always made): deb, rpm (split "
      "packages; with --publish all also their signed APT / YUM repository), oci (an image per "
      "role in an OCI layout; with --publish all pushed to packagers.oci.registry): "
      "docs/packaging.md; repeat or separate with commas. Settings: packagers.<name>")(
      "publish", po::value<std::string>()->default_value("none"),
      "none | cache (push the plan's entries to every writable non-local cache layer that lacks "
      "them) | all (also upload the artifact, SHA256SUMS, .asc and provenance.json under "
      "<toolchain>/<version>/<arch>/); also when the artifact existed")(
      "signing-key", po::value<std::string>(),
      "GPG key id or fingerprint to sign with (key material only via the config's "
      "signing.private_key_file / private_key_env)")("local-cache", po::value<std::string>(),
                                                     "use DIR as the local cache layer")(
      "no-cache",
      "do not read from any cache layer nor reuse a build tree: every package from scratch (still "
      "writes new entries)")("verify", "run 'verify --deep' on the artifact")(
      "backend", po::value<std::string>(), "container engine: docker | podman (default: config)")(
      "jobs", po::value<int>(),
      "parallel make jobs inside each build (default: config, then CPUs)")(
      "output", po::value<std::string>(), "directory for the artifact (default <cache>/builds/)")(
      "dry-run", "print the plan and stop")(
      "with-dev",
      "also keep headers, static and libtool archives and pkg-config files in the view (the "
      "artifact is named ...-<arch>-dev instead of ...-<arch>-software)");
  inv.args = join_gpu_values(inv.args);
  auto vm = parse_command(inv, kSpec, opts);
  if (!vm) return 0;
  BuildRequest request = request_from(*vm);
  if (inv.global.json) {
    inv.out << nlohmann::json{{"event", "request"}, {"request", request.to_json()}}.dump() << "\n";
  }
  App app(inv.global);
  if (request.dry_run) {
    const auto planned = plan_build(app, request);
    // --backend is checked even for a dry run: a typo should not wait for the real one.
    if (!request.backend.empty()) {
      const auto names = app.plugins().container_backend_names();
      if (std::find(names.begin(), names.end(), request.backend) == names.end()) {
        std::string list = join(names, ", ");
        throw UsageError("unknown container backend '" + request.backend + "'",
                         {{"backend", request.backend}},
                         "valid backends (loaded plugins): " + (list.empty() ? "(none)" : list));
      }
    }
    auto cached = cache_states(app, request, planned.plan);
    if (inv.global.json) {
      auto j = planned.plan.to_json();
      j["image"] = planned.image_tag;
      j["plan_ms"] = planned.plan_ms;
      for (auto& p : j["packages"]) p["cache"] = cached[p["name"].get<std::string>()];
      inv.out << nlohmann::json{{"event", "plan"}, {"plan", j}}.dump() << "\n";
    } else {
      print_plan(inv.out, planned, cached);
    }
    return 0;
  }
  const bool progress = !inv.global.json && !inv.global.quiet;
  const bool terminal = progress && ::isatty(STDERR_FILENO) == 1;
  auto sink = [&](const PipelineEvent& e) {
    if (inv.global.json) {
      const nlohmann::json j = to_json(e);
      inv.out << j.dump() << "\n" << std::flush;
      return;
    }
    if (!progress) return;
    const auto secs = e.elapsed.count() / 1000;
    std::string counter =
        e.package ? fmt::format(" {}/{}", e.package->index, e.package->total) : std::string();
    std::string hits;  // cache hits per layer, after the build stage's summary
    if (e.stage == "build" && e.kind == "done" && e.data.contains("hits")) {
      for (const auto& [layer, n] : e.data["hits"].items()) {
        hits += (hits.empty() ? " (hits: " : ", ") + layer + " " + std::to_string(n.get<int>());
      }
      if (!hits.empty()) hits += ")";
    }
    inv.err << fmt::format("[{:02}:{:02}] {:<8}{} {}{}\n", secs / 60, secs % 60, e.stage, counter,
                           e.message, hits)
            << std::flush;
  };
  // Build output streams to the terminal only with -v; it is always in the per-package logs.
  std::ostream* live = (terminal && inv.global.verbosity > 0) ? &inv.err : nullptr;
  const PipelineResult result = run_build_pipeline(app, request, sink, live);
  if (inv.global.json) {
    nlohmann::json j{{"event", "result"},
                     {"artifact", result.artifact.string()},
                     {"provenance", result.provenance.string()},
                     {"checksums", result.checksums.string()},
                     {"existed", result.existed},
                     {"root_hash", result.planned.plan.root().hash}};
    if (result.verify) {
      j["verify"] = {{"ok", result.verify->ok()},
                     {"signer", result.verify->signer},
                     {"elf_checked", result.verify->elf_checked}};
    }
    if (result.publish) j["published"] = result.publish->to_json();
    inv.out << j.dump() << "\n";
  } else {
    if (result.existed && !inv.global.quiet) {
      inv.err << "nothing to do: a valid signed artifact of this plan exists\n";
    }
    if (result.publish && !inv.global.quiet) {
      for (const auto& l : result.publish->layers) {
        inv.err << fmt::format(
            "published to {} ({}): {} entr{} uploaded, {} already there; {} artifact file(s) "
            "uploaded, {} already there\n",
            l.layer, l.location, l.entries_uploaded.size(),
            l.entries_uploaded.size() == 1 ? "y" : "ies", l.entries_present.size(),
            l.files_uploaded.size(), l.files_present.size());
      }
    }
    inv.out << result.artifact.string() << "\n";
  }
  return 0;
}

}  // namespace

void add_build_commands(CommandTable& table) {
  table.add({{"build-slurm"}, "build a relocatable, signed Slurm package", run_build_slurm});
}

}  // namespace sf::cli
