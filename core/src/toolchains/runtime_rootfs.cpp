#include "toolchains/runtime_rootfs.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "formats/build_context.hpp"
#include "formats/rootfs_layer.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"
#include "slurm_factory/shell_quote.hpp"
#include "support/file_io.hpp"

namespace fs = std::filesystem;

namespace sf {
namespace {

constexpr int kFormat = 1;

std::vector<std::string> checked_packages(const std::vector<std::string>& packages) {
  static const std::regex kName("[A-Za-z0-9][A-Za-z0-9+._:~-]{0,127}");
  std::set<std::string> out;
  for (const auto& p : packages) {
    if (!std::regex_match(p, kName)) {
      throw UsageError("'" + p + "' is not an OS package name", {{"package", p}},
                       "name packages as the release's package manager does (libpam0g)");
    }
    out.insert(p);
  }
  return {out.begin(), out.end()};
}

std::string word_list(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += " " + shell_quote(w);
  return out;
}

[[noreturn]] void layer_failure(const std::string& what, const fs::path& file) {
  throw PackagingError(what, {{"stage", "runtime image"}, {"file", file.string()}},
                       "check the cache folder's free space and permissions, then run again");
}

// The cached layer's record, when it is there and its file still has the recorded digest.
std::optional<RootfsLayer> cached_layer(const fs::path& record, const fs::path& layer) {
  std::ifstream in(record);
  if (!in) return std::nullopt;
  RootfsLayer out;
  try {
    const auto j = nlohmann::json::parse(in);
    if (j.at("format").get<int>() != kFormat) return std::nullopt;
    out.diff_id = j.at("diff_id").get<std::string>();
    out.digest = j.at("digest").get<std::string>();
    out.size = j.at("size").get<std::uint64_t>();
    out.image = j.at("image").get<std::string>();
    out.base_image = j.at("base_image").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  std::error_code ec;
  if (fs::file_size(layer, ec) != out.size || ec) return std::nullopt;
  auto sha = sha256_file_hex(layer);
  if (!sha || *sha != out.digest) return std::nullopt;
  out.file = layer;
  return out;
}

}  // namespace

std::string runtime_setup_script(const ToolchainRelease& release,
                                 const std::vector<std::string>& packages) {
  const auto names = checked_packages(packages);
  std::ostringstream s;
  s << "#!/bin/sh\n"
       "# Runtime image of toolchain "
    << release.name
    << " (slurm-factory): the packages the base image lacks.\n"
       "set -eu\n";
  if (names.empty()) return s.str() + "exit 0\n";
  s << "missing=\"\"\n"
       "for p in"
    << word_list(names) << "; do\n";
  if (release.package_manager == PackageManager::kApt) {
    s << "  dpkg-query -W -f='${Status}\\n' \"$p\" 2>/dev/null | grep -q '^install ok "
         "installed$' || missing=\"$missing $p\"\n"
         "done\n"
         "[ -n \"$missing\" ] || exit 0\n"
         "export DEBIAN_FRONTEND=noninteractive\n"
         "apt-get update\n"
         "# shellcheck disable=SC2086 # one word per package\n"
         "apt-get install -y --no-install-recommends $missing\n"
         "apt-get clean\n"
         "rm -rf /var/lib/apt/lists/*\n";
  } else {
    s << "  rpm -q \"$p\" >/dev/null 2>&1 || missing=\"$missing $p\"\n"
         "done\n"
         "[ -n \"$missing\" ] || exit 0\n"
         "# shellcheck disable=SC2086 # one word per package\n"
         "dnf -y --setopt=install_weak_deps=False --setopt=tsflags=nodocs install $missing\n"
         "dnf clean all\n"
         "rm -rf /var/cache/dnf\n";
  }
  return s.str();
}

RootfsLayer make_runtime_rootfs(ContainerBackend& backend, const RuntimeRootfsRequest& r) {
  const ToolchainRelease& release = r.image.release;
  if (is_cross_build(release)) {
    throw PackagingError("container images of a cross build are not made",
                         {{"toolchain", release.name}, {"arch", release.arch}},
                         "build the images on a " + release.arch + " host");
  }
  const std::string script = runtime_setup_script(release, r.packages);
  const BaseImage base = ensure_base_image(backend, r.image);
  const auto base_info = backend.inspect_image(base.reference);
  if (!base_info) {
    throw ContainerError("the base image vanished", {{"image", base.reference}},
                         "run again (it is pulled or bootstrapped again)");
  }
  const std::string hash = sha256_hex(nlohmann::json{
      {"format", kFormat},
      {"base_image_id", base_info->id},
      {"arch", release.arch},
      {"script", script}}.dump());
  const std::string tag = "slurm-factory/runtime-" + release.name + ":" + hash.substr(0, 12);
  const fs::path dir = r.image.cache_dir / "runtime-rootfs";
  const fs::path layer = dir / (hash + ".layer.tar.gz");
  const fs::path record = dir / (hash + ".json");
  if (auto hit = cached_layer(record, layer)) {
    log().info("runtime image {}: layer {} reused", tag, layer.string());
    return *hit;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) layer_failure("cannot create the folder: " + ec.message(), dir);

  if (!backend.image_exists(tag)) {
    const fs::path log_file = r.image.cache_dir / "logs" /
                              ("runtime-" + release.name + "-" + hash.substr(0, 12) + ".log");
    fs::create_directories(log_file.parent_path(), ec);
    std::ofstream log_stream(log_file, std::ios::trunc);
    ImageBuildSpec spec;
    spec.tag = tag;
    spec.labels = {{kKindLabel, "runtime"},
                   {kToolchainLabel, release.name},
                   {kDefinitionHashLabel, hash.substr(0, 12)}};
    const std::string containerfile =
        "# Generated by slurm-factory: the runtime image of a toolchain release.\nFROM " +
        base_info->id +
        "\nCOPY setup.sh /tmp/slurm-factory-runtime.sh\n"
        "RUN /bin/sh /tmp/slurm-factory-runtime.sh && rm -f /tmp/slurm-factory-runtime.sh\n";
    log().info("runtime image {}: building on {} ({})", tag, base.reference, backend.name());
    try {
      backend.build_image(
          spec,
          make_build_context({{"Containerfile", containerfile, 0644}, {"setup.sh", script, 0755}}),
          [&](std::string_view line) {
            log_stream << line << "\n";
            if (r.progress) r.progress(line);
          });
    } catch (SlurmFactoryError& e) {
      e.with("toolchain", release.name).with("log file", log_file.string());
      throw;
    }
  }

  // Flattened: the tar of "/" of a container that never starts, made a layer.
  const std::string stem = std::string(kTempPrefix) + std::to_string(::getpid()) + "-" + hash;
  const fs::path engine_tar = dir / (stem + ".engine.tar");
  const fs::path layer_tar = dir / (stem + ".layer.tar");
  struct Scratch {
    std::vector<fs::path> files;
    ~Scratch() {
      std::error_code e;
      for (const auto& f : files) fs::remove(f, e);
    }
  } scratch{{engine_tar, layer_tar}};
  ContainerSpec cspec;
  cspec.image = tag;
  cspec.command = {"/bin/true"};
  cspec.labels = {{kKindLabel, "runtime"}};
  const std::string id = backend.create_container(cspec);
  {
    std::ofstream out(engine_tar, std::ios::binary | std::ios::trunc);
    try {
      backend.copy_out(id, "/", [&](std::string_view bytes) {
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      });
    } catch (...) {
      backend.remove_container(id, true);
      throw;
    }
    backend.remove_container(id, true);
    out.close();
    if (!out) layer_failure("cannot write the image's files", engine_tar);
  }
  auto stats = write_rootfs_layer(engine_tar, layer_tar);
  if (!stats) layer_failure(stats.error().message, layer_tar);
  fs::remove(engine_tar, ec);
  auto gz = gzip_file(layer_tar, layer, 6);
  if (!gz) layer_failure(gz.error().message, layer);
  RootfsLayer out;
  out.file = layer;
  out.diff_id = stats->sha256;
  out.digest = gz->sha256;
  out.size = gz->size;
  out.image = tag;
  out.base_image = base.reference;
  const std::string json =
      nlohmann::json{{"format", kFormat},        {"diff_id", out.diff_id},
                     {"digest", out.digest},     {"size", out.size},
                     {"image", out.image},       {"base_image", out.base_image},
                     {"entries", stats->entries}}
          .dump(2);
  const fs::path record_tmp = dir / (stem + ".json");
  {
    std::ofstream rec(record_tmp, std::ios::trunc);
    rec << json << "\n";
    if (!rec) layer_failure("cannot write the layer's record", record_tmp);
  }
  fs::rename(record_tmp, record, ec);
  if (ec) layer_failure("cannot write the layer's record: " + ec.message(), record);
  log().info("runtime image {}: layer {} ({} entries, {} bytes)", tag, layer.string(),
             stats->entries, out.size);
  return out;
}

}  // namespace sf
