// `slurm-factory rebuild ARTIFACT`: rebuild an artifact from its provenance and compare
// (artifact_rebuild.hpp).
#include <fmt/format.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "app/app.hpp"
#include "cli/command_groups.hpp"
#include "pipeline/artifact_rebuild.hpp"
#include "slurm_factory/errors.hpp"

namespace po = boost::program_options;

namespace sf::cli {
namespace {

const CommandSpec kSpec{
    "slurm-factory rebuild ARTIFACT [--provenance FILE] [--keep-going] [options]",
    "Proves that an artifact comes from the sources its provenance names: rebuilds it from\n"
    "scratch and compares. It reads provenance.json (beside the artifact, or --provenance FILE):\n"
    "the Slurm version, toolchain and GPU flavours, each package's hash inputs and source sha256,\n"
    "and the exact package list of the toolchain image the artifact was built in. It prepares\n"
    "that toolchain image and compares its packages with the recorded list: when any package\n"
    "moved (the base distribution updated it), the rebuild cannot be faithful and is refused\n"
    "(exit 14), listing each package with the recorded and the current version; --keep-going\n"
    "rebuilds anyway (then a difference proves nothing). It then builds every package again with\n"
    "no binary cache: nothing is read from any cache layer, and what it builds goes only to a\n"
    "throwaway folder under <cache_dir>/tmp/ (removed at the end). Sources come from the source\n"
    "cache or the recipes' mirrors, checked against the recorded sha256. Packages whose recipe\n"
    "inputs differ from the recorded ones are named before the build. Finally it compares the\n"
    "artifacts: the sha256, then file by file, printing each differing file with its sizes and,\n"
    "for an ELF file, the sections whose bytes differ.\n"
    "Exit 0: identical sha256 (the artifact is reproducible from its sources). Exit 13: the\n"
    "rebuilt artifact differs. Exit 14: refused, the toolchain image cannot be made identical.\n"
    "Other errors exit as build-slurm does. A rebuild takes as long as a cold build-slurm.",
    "  slurm-factory rebuild slurm-24.11.5-trixie-amd64-software.tar.zst\n"
    "  slurm-factory rebuild downloaded/slurm.tar.zst --provenance downloaded/provenance.json\n"
    "  slurm-factory rebuild --json ARTIFACT > report.json\n"};

int run_rebuild(Invocation& inv) {
  po::options_description opts("Options");
  RebuildOptions options;
  std::string artifact;
  std::string provenance;
  opts.add_options()("artifact", po::value(&artifact), "the artifact to rebuild and compare")(
      "provenance", po::value(&provenance),
      "its provenance.json (default: <artifact basename>.provenance.json beside it)")(
      "keep-going", po::bool_switch(&options.keep_going),
      "rebuild even when the toolchain image's packages moved since the artifact was built")(
      "backend", po::value(&options.backend), "docker or podman (default: the config's)")(
      "jobs", po::value(&options.jobs), "parallel make jobs (default: build.jobs)");
  po::positional_options_description pos;
  pos.add("artifact", 1);
  auto vm = parse_command(inv, kSpec, opts, pos);
  if (!vm) return 0;
  if (artifact.empty()) {
    throw UsageError("rebuild needs the artifact to rebuild", {},
                     "slurm-factory rebuild ARTIFACT (see --help)");
  }
  options.artifact = artifact;
  if (!provenance.empty()) options.provenance = provenance;

  App app(inv.global);
  const bool progress = !inv.global.json && !inv.global.quiet;
  auto sink = [&](const PipelineEvent& e) {
    if (!progress) return;
    const auto secs = e.elapsed.count() / 1000;
    std::string counter =
        e.package ? fmt::format(" {}/{}", e.package->index, e.package->total) : std::string();
    inv.err << fmt::format("[{:02}:{:02}] {:<8}{} {}\n", secs / 60, secs % 60, e.stage, counter,
                           e.message)
            << std::flush;
  };
  const bool terminal = progress && ::isatty(STDERR_FILENO) == 1;
  std::ostream* live = (terminal && inv.global.verbosity > 0) ? &inv.err : nullptr;
  const RebuildReport report = rebuild_artifact(app, options, sink, live);
  if (inv.global.json) {
    inv.out << report.to_json().dump() << "\n";
  } else {
    inv.out << format_rebuild_report(report);
  }
  return report.exit_code();
}

}  // namespace

void add_rebuild_commands(CommandTable& table) {
  table.add({{"rebuild"},
             "rebuild an artifact from its provenance and compare: is it reproducible?",
             run_rebuild});
}

}  // namespace sf::cli
