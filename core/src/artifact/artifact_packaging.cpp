#include "artifact/artifact_packaging.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <future>
#include <map>

#include "artifact/artifact_checksums.hpp"
#include "artifact/artifact_contents.hpp"
#include "config/build_request.hpp"
#include "formats/source_date_epoch.hpp"
#include "signing/gpg_signer.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "slurm_factory/packager.hpp"
#include "support/file_io.hpp"
#include "support/template_renderer.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

std::int64_t archive_mtime(const std::optional<std::int64_t>& requested) {
  if (requested) return *requested;
  if (const char* e = std::getenv("SOURCE_DATE_EPOCH"); e != nullptr && *e != '\0') {
    char* end = nullptr;
    const long long v = std::strtoll(e, &end, 10);
    if (end != nullptr && *end == '\0' && v >= 0) return v;
  }
  return 0;
}

std::string utc_now() { return format_utc(static_cast<std::int64_t>(std::time(nullptr))); }

void write_text(const fs::path& dest, const std::string& text) {
  if (auto problem = write_file_atomically(dest, text); !problem.empty()) {
    throw PackagingError(problem, {{"file", dest.string()}},
                         "check that the folder is writable and has room");
  }
}

// Logs at debug how long each stage took ("package: scan 41 ms"), for profiling.
class StageTimer {
 public:
  void done(const char* stage) {
    const auto now = std::chrono::steady_clock::now();
    sf::log().debug("package: {} {} ms", stage,
                    std::chrono::duration_cast<std::chrono::milliseconds>(now - last_).count());
    last_ = now;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

ArtifactDescription describe_artifact(const ArtifactPackagingRequest& request) {
  const ArtifactInfo& info = request.info;
  ArtifactDescription d;
  d.slurm_version = info.slurm_version;
  d.toolchain = info.toolchain;
  d.toolchain_family = info.toolchain_family;
  d.os_name = info.os_name;
  d.os_version = request.os_version;
  d.arch = info.arch;
  d.base_image = request.base_image;
  d.gpu = info.gpu;
  d.install_root = info.install_root;
  d.builder_version = info.builder_version.empty() ? SF_VERSION : info.builder_version;
  d.system_packages = request.system_packages;
  return d;
}

// The packagers after the main one, each on the same staged tree: their files must be new
// regular files in the output folder (not the main artifact's names), hashed for SHA256SUMS and
// provenance. Returns the files in order.
std::vector<fs::path> run_more_packagers(const ArtifactPackagingRequest& request,
                                         const PackageInput& main_input,
                                         ArtifactPackagingResult& result) {
  std::vector<PackagedOutput>& outputs = result.outputs;
  std::vector<fs::path> files;
  std::string main_sha256;
  if (!request.more_packagers.empty()) {
    main_sha256 = main_input.main_file_sha256 != nullptr ? *main_input.main_file_sha256 : "";
    if (main_sha256.empty()) {
      auto sha = sha256_of_file(result.artifact);
      if (!sha) {
        throw PackagingError(sha.error().message, {{"file", result.artifact.string()}},
                             "check the output folder");
      }
      main_sha256 = *sha;
    }
  }
  // The packagers run at the same time (each on its own copy of the input and its own folders;
  // one is mostly compression, another an external tool): on 2 cores the outputs of one build take
  // about half the time. Their outputs are then checked and listed in the packagers' order.
  struct Ran {
    PackageOutput written;
    double seconds = 0;
  };
  std::vector<std::future<Ran>> jobs;
  for (Packager* p : request.more_packagers) {
    PackageInput input = main_input;
    input.on_file = nullptr;
    input.main_file_sha256 = nullptr;
    input.main_artifact = result.artifact;
    input.main_artifact_sha256 = main_sha256;
    jobs.push_back(std::async(std::launch::async, [p, input = std::move(input)] {
      const auto started = std::chrono::steady_clock::now();
      Ran ran{p->package(input), 0};
      ran.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      return ran;
    }));
  }
  std::vector<Ran> ran;
  std::exception_ptr first_failure;
  for (auto& job : jobs) {
    try {
      ran.push_back(job.get());
    } catch (...) {
      if (!first_failure) first_failure = std::current_exception();
      ran.emplace_back();
    }
  }
  if (first_failure) std::rethrow_exception(first_failure);
  for (std::size_t i = 0; i < request.more_packagers.size(); ++i) {
    Packager* p = request.more_packagers[i];
    const PackageOutput& written = ran[i].written;
    result.seconds[p->name()] = ran[i].seconds;
    if (written.files.empty()) {
      throw PackagingError("the packager wrote no file", {{"packager", p->name()}},
                           "this is a bug in the packager plugin");
    }
    for (const auto& f : written.files) {
      std::error_code ec;
      const bool regular = fs::is_regular_file(fs::symlink_status(f, ec));
      const std::string name = f.filename().string();
      const bool reserved = name == main_input.basename + ".provenance.json" ||
                            name == kChecksumsFile || name == kChecksumsSignatureFile ||
                            name.rfind(main_input.basename + ".", 0) == 0;
      if (!regular ||
          (f.parent_path() / "").lexically_normal() !=
              (request.output_dir / "").lexically_normal() ||
          reserved) {
        throw PackagingError(
            "the packager's output is not a new regular file in the output folder",
            {{"packager", p->name()},
             {"file", f.string()},
             {"folder", request.output_dir.string()}},
            "this is a bug in the packager plugin: it must write its own files into output_dir, "
            "not the tarball's, provenance's or checksums' names");
      }
      auto sha = sha256_of_file(f);
      if (!sha) {
        throw PackagingError(sha.error().message, {{"packager", p->name()}, {"file", f.string()}},
                             "check the output folder");
      }
      outputs.push_back({p->name(), f, *sha});
      files.push_back(f);
    }
  }
  return files;
}

}  // namespace

ArtifactPackagingResult package_artifact(const ArtifactPackagingRequest& request,
                                         Packager& packager, const TemplateRenderer& renderer) {
  const ArtifactInfo& info = request.info;
  const fs::path view = request.staging / "view";
  if (!fs::is_directory(view)) {
    throw PackagingError("the staging folder has no view/", {{"folder", request.staging.string()}},
                         "assemble the view before packaging");
  }
  ArtifactPackagingResult result;
  StageTimer timer;
  // Temp files a killed run left in the output folder (".sf-tmp-<pid>-..."; never read as an
  // artifact: they are not named like one).
  remove_stale_temps(request.output_dir, false);

  // 1. The modulefiles and data/slurm_assets/ are rendered while the view's text files are
  // scanned for build-prefix strings (those files are listed in prefix-files.txt, which goes into
  // the archive, for slurm_install.sh --prefix to rewrite at install time). 2. The ELF files are
  // scanned as the packager reads them (the result goes to provenance).
  std::string build_prefix = info.install_root;
  while (build_prefix.size() > 1 && build_prefix.back() == '/') build_prefix.pop_back();
  build_prefix += "/view";
  auto text_scan = std::async(std::launch::async, [&view, &build_prefix, &request] {
    return scan_compiled_paths(view, build_prefix, ScanScope::kTextFiles,
                               request.relocation_fallbacks);
  });
  try {
    render_artifact_assets(info, request.staging, renderer);
  } catch (...) {
    text_scan.wait();
    throw;
  }
  const std::vector<CompiledPath> text_paths = text_scan.get();
  std::string list;
  for (const auto& f : text_files_naming_prefix(text_paths)) list += f + "\n";
  write_text(request.staging / "data/slurm_assets/prefix-files.txt", list);
  timer.done("render assets + scan text files");
  // 3. The artifact. What it holds (entry count and bytes: the caps `verify --deep` extracts it
  // under) and which modes the archive writer resets (setuid, setgid, sticky, world-writable: a
  // warning each, in the log and in provenance.json).
  auto contents = survey_artifact_tree(request.staging);
  if (!contents) {
    throw PackagingError(contents.error().message, {{"folder", request.staging.string()}},
                         "check the staging folder's permissions");
  }
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& reset : contents->mode_resets) {
    warnings.push_back(describe_mode_reset(reset));
    sf::log().warn("package: {}", describe_mode_reset(reset));
  }
  const std::string basename = artifact_basename(info);
  // The ELF files are scanned from what the packager reads while archiving (one read of the
  // view); a packager that does not hand them over leaves the scan to a second read below.
  CompiledPathCollector collector(view, build_prefix, request.relocation_fallbacks);
  std::string artifact_sha256;
  PackageInput input;
  input.root = request.staging;
  input.basename = basename;
  input.output_dir = request.output_dir;
  input.mtime = archive_mtime(request.mtime);
  input.on_file = [&collector](const std::string& path, std::string_view content) {
    collector.add(path, content);
  };
  input.main_file_sha256 = &artifact_sha256;
  input.artifact = describe_artifact(request);
  input.runtime_rootfs = request.runtime_rootfs;
  if (request.signer != nullptr) {
    input.signing_home = request.signer->gnupg_home();
    input.signing_key = request.signer->fingerprint();
  }
  const auto main_started = std::chrono::steady_clock::now();
  PackageOutput out = packager.package(input);
  result.seconds[packager.name()] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - main_started).count();
  if (out.files.empty()) {
    throw PackagingError("the packager wrote no file", {{"packager", packager.name()}},
                         "this is a bug in the packager plugin");
  }
  result.artifact = out.files.front();
  timer.done("archive");
  std::vector<fs::path> more_files = run_more_packagers(request, input, result);
  timer.done("more packagers");
  // Both scans, in the order a single scan gives: by file, then offset.
  result.compiled_paths = collector.fed()
                              ? collector.result()
                              : scan_compiled_paths(view, build_prefix, ScanScope::kElfFiles,
                                                    request.relocation_fallbacks);
  result.compiled_paths.insert(result.compiled_paths.end(), text_paths.begin(), text_paths.end());
  std::stable_sort(result.compiled_paths.begin(), result.compiled_paths.end(),
                   [](const CompiledPath& a, const CompiledPath& b) {
                     return std::filesystem::path(a.file) < std::filesystem::path(b.file);
                   });
  timer.done("scan ELF files");
  {
    const fs::path asc = artifact_signature_path(result.artifact);
    if (request.signer != nullptr) {
      result.signature = write_artifact_signature(result.artifact, *request.signer);
    } else {
      std::error_code ec;
      fs::remove(asc, ec);  // a signature of an earlier artifact of this name would not verify
    }
  }
  timer.done("sign artifact");

  // 4. provenance.json, SHA256SUMS, SHA256SUMS.asc (the artifact's own .asc is written above).
  nlohmann::json prov = request.provenance;
  prov["artifact"] = result.artifact.filename().string();
  prov["slurm_version"] = info.slurm_version;
  prov["builder"] = {{"name", "slurm-factory"},
                     {"version", info.builder_version.empty() ? SF_VERSION : info.builder_version}};
  if (!prov.contains("created")) prov["created"] = utc_now();
  nlohmann::json& tc = prov["toolchain"];
  if (!tc.is_object()) tc = nlohmann::json::object();
  tc["name"] = info.toolchain;
  tc["family"] = info.toolchain_family;
  tc["os_name"] = info.os_name;
  tc["arch"] = info.arch;
  tc["system_libraries"] = request.system_libraries;
  if (!prov.contains("features")) {
    prov["features"] = gpu_feature_names(info.gpu);
  }
  prov["prefix"] = {{"build", build_prefix}, {"install_root", info.install_root}};
  prov["compiled_paths"] = compiled_paths_json(result.compiled_paths);
  nlohmann::json unhandled = nlohmann::json::array();
  for (const auto& p : result.compiled_paths) {
    if (!p.handled) unhandled.push_back(p.file + ": " + p.value);
  }
  prov["compiled_paths_unhandled"] = unhandled;
  prov["contents"] = contents_json(*contents);
  if (!warnings.empty()) {
    if (prov.contains("warnings") && prov["warnings"].is_array()) {
      for (const auto& w : warnings) prov["warnings"].push_back(w);
    } else {
      prov["warnings"] = warnings;
    }
  }
  {
    // Every output, the main artifact first: what each packager wrote, with its sha256.
    nlohmann::json outputs = nlohmann::json::array();
    outputs.push_back({{"packager", packager.name()},
                       {"file", result.artifact.filename().string()},
                       {"sha256", artifact_sha256}});
    for (std::size_t i = 1; i < out.files.size(); ++i) {
      outputs.push_back(
          {{"packager", packager.name()}, {"file", out.files[i].filename().string()}});
    }
    for (const auto& o : result.outputs) {
      outputs.push_back(
          {{"packager", o.packager}, {"file", o.file.filename().string()}, {"sha256", o.sha256}});
    }
    prov["outputs"] = outputs;
  }
  prov["signed"] = request.signer != nullptr;
  if (request.signer != nullptr) prov["signing_key"] = request.signer->fingerprint();

  result.provenance = request.output_dir / (basename + ".provenance.json");
  write_text(result.provenance, prov.dump(2) + "\n");

  std::vector<fs::path> files = out.files;
  files.insert(files.end(), more_files.begin(), more_files.end());
  files.push_back(result.provenance);
  std::map<std::string, std::string> known;
  if (!artifact_sha256.empty()) known[result.artifact.filename().string()] = artifact_sha256;
  for (const auto& o : result.outputs) known[o.file.filename().string()] = o.sha256;
  write_checksums(request.output_dir, files, request.signer, known);
  result.checksums = request.output_dir / kChecksumsFile;
  timer.done("provenance and checksums");
  return result;
}

}  // namespace sf
