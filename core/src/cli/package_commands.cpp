#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "app/app.hpp"
#include "artifact/artifact_packaging.hpp"
#include "cache/cache_chain_factory.hpp"
#include "cli/command_groups.hpp"
#include "config/build_request.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/packager.hpp"
#include "support/input_validation.hpp"
#include "support/template_renderer.hpp"
#include "toolchains/runtime_rootfs.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_resolution.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace sf::cli {

namespace {

// "--gpu cuda,gpu-rocm" -> {"cuda", "rocm"}; every flavour checked (it becomes part of a file
// name).
std::vector<std::string> gpu_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.rfind("gpu-", 0) == 0) item.erase(0, 4);
    if (!item.empty()) out.push_back(check_input(InputKind::kGpuFlavour, item, "--gpu"));
  }
  return out;
}

int run_package(Invocation& inv) {
  CommandSpec spec{
      "slurm-factory package STAGING --slurm-version V --toolchain NAME [options]",
      "Packages an assembled view into an artifact: renders the modulefiles and "
      "data/slurm_assets/ into STAGING (which holds view/), records the compiled-in build-prefix "
      "paths, writes slurm-<version>-<toolchain>[-<gpu>]-<arch>-software.tar.zst with the "
      "tarball packager, then <basename>.provenance.json, SHA256SUMS and SHA256SUMS.asc (signed "
      "with the configured signing key). build-slurm does this as its last stage; this command "
      "repackages a view by hand.",
      "  slurm-factory package /tmp/stage --slurm-version 24.11.5 --toolchain bookworm\n"
      "  slurm-factory package /tmp/stage --slurm-version 24.11.5 --toolchain trixie --gpu cuda "
      "--output out/\n"};
  po::options_description opts("Options");
  std::string staging, version, toolchain, gpu, output, compression = "zstd";
  int threads = 0;
  opts.add_options()("staging", po::value(&staging), "the folder holding view/")(
      "slurm-version", po::value(&version), "Slurm version of the view (24.11.5)")(
      "toolchain", po::value(&toolchain), "toolchain release the view was built for (bookworm)")(
      "gpu", po::value(&gpu), "GPU features of the build: cuda,rocm,oneapi")(
      "output,o", po::value(&output), "output folder (default: current folder)")(
      "compression", po::value(&compression), "zstd (default), gzip or xz")(
      "threads", po::value(&threads), "zstd worker threads (0: one per CPU)")(
      "unsigned", po::bool_switch(), "write SHA256SUMS without a signature")(
      "packager", po::value<std::vector<std::string>>()->composing(),
      "also write these outputs (deb, rpm, oci); repeat or separate with commas. Packages and "
      "images made here depend on no OS library (no build image is asked): build-slurm "
      "--packager gives them; oci asks the config's container engine for its base layer");
  po::positional_options_description pos;
  pos.add("staging", 1);
  auto vm = parse_command(inv, spec, opts, pos);
  if (!vm) return 0;
  if (staging.empty() || version.empty() || toolchain.empty()) {
    throw UsageError("package needs STAGING, --slurm-version and --toolchain", {},
                     "see slurm-factory package --help");
  }
  // Both name the artifact file and land in its install script: checked before anything runs.
  check_input(InputKind::kSlurmVersion, version, "--slurm-version");
  check_input(InputKind::kToolchainName, toolchain, "--toolchain");
  const std::vector<std::string> gpus = gpu_list(gpu);

  App app(inv.global);
  const Config& config = app.config();
  PluginHost& host = app.plugins();
  const auto catalog = make_toolchain_catalog(host, config);
  const ToolchainRelease& release = catalog.get(toolchain);

  ArtifactPackagingRequest req;
  req.info.slurm_version = version;
  req.info.toolchain = release.name;
  req.info.toolchain_family = release.family;
  req.info.os_name = release.os_name;
  req.info.arch = release.arch;
  req.info.gpu = gpus;
  req.staging = staging;
  req.output_dir = output.empty() ? fs::current_path() : fs::path(output);
  req.system_libraries = release.system_libraries;

  std::unique_ptr<GpgSigner> signer;
  if (!(*vm)["unsigned"].as<bool>()) {
    // The signing key of the config, as for builds (the automatic local key when none is named).
    signer = open_config_signer(config);
    req.signer = signer.get();
  }

  auto packager = app.packager("tarball", {{"compression", compression}, {"threads", threads}});
  std::vector<std::unique_ptr<Packager>> more;
  if (vm->count("packager") != 0U) {
    for (const auto& name :
         parse_packagers((*vm)["packager"].as<std::vector<std::string>>(), "--packager")) {
      if (name != "tarball") more.push_back(app.packager(name));
    }
  }
  for (const auto& p : more) req.more_packagers.push_back(p.get());
  req.os_version = release.os_version;
  // The runtime layer of image packagers (oci): the release's base image from the config's engine.
  req.runtime_rootfs = [&app, &toolchain, &gpus](const std::vector<std::string>& packages) {
    RuntimeRootfsRequest q;
    q.image = resolve_toolchain(app, toolchain, gpus).image;
    q.packages = packages;
    auto engine = app.container_backend("");
    return make_runtime_rootfs(*engine, q);
  };
  req.base_image = release.base_image;

  const auto started = std::chrono::steady_clock::now();
  const auto result = package_artifact(req, *packager, TemplateRenderer());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::size_t unhandled = 0;
  for (const auto& p : result.compiled_paths) unhandled += p.handled ? 0 : 1;
  if (inv.global.json) {
    inv.out << nlohmann::json{{"artifact", result.artifact.string()},
                              {"provenance", result.provenance.string()},
                              {"checksums", result.checksums.string()},
                              {"size", fs::file_size(result.artifact)},
                              {"seconds", seconds},
                              {"signed", signer != nullptr},
                              {"compiled_paths", result.compiled_paths.size()},
                              {"compiled_paths_unhandled", unhandled},
                              {"packager_seconds", result.seconds},
                              {"outputs",
                               [&result] {
                                 nlohmann::json o = nlohmann::json::array();
                                 for (const auto& x : result.outputs) {
                                   o.push_back({{"packager", x.packager},
                                                {"file", x.file.string()},
                                                {"sha256", x.sha256}});
                                 }
                                 return o;
                               }()}}
                   .dump()
            << "\n";
  } else {
    inv.out << result.artifact.string() << " (" << fs::file_size(result.artifact) << " bytes, "
            << seconds << " s" << (signer ? ", signed" : ", unsigned") << ")\n";
    if (unhandled > 0) {
      inv.err << "warning: " << unhandled
              << " compiled-in build-prefix path(s) follow no flag (provenance.json "
                 "compiled_paths_unhandled)\n";
    }
  }
  return 0;
}

}  // namespace

void add_package_commands(CommandTable& table) {
  table.add({{"package"}, "package an assembled view into a signed artifact", run_package});
}

}  // namespace sf::cli
