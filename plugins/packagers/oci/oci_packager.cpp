// The "oci" packager: one container image per Slurm role (slurmctld, slurmd, slurmdbd, slurmrestd
// and login, with the clients) written as an OCI image layout in one tar file
// (<name>-images.oci.tar: `podman load`, `skopeo copy oci-archive:`), and pushed to a registry by
// `--publish all` (oci_repository.hpp). Every image is the release's runtime layer (its base image
// with the OS packages the view needs: PackageInput::runtime_rootfs), then the view's split
// (package_layout.hpp) as layers shared between the images: common (with the entrypoint), client,
// and the role's daemon. Layers are reproducible (sorted, fixed times, owner 0), so a rebuild of
// the same view gives the same digests and a registry stores each layer once. docs/packaging.md.
//
// Settings (packagers.oci): oci_settings.hpp.
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "oci_entrypoint.hpp"
#include "oci_image.hpp"
#include "oci_repository.hpp"
#include "oci_settings.hpp"
#include "package_layout.hpp"
#include "package_trees.hpp"
#include "slurm_factory/archive_writer.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/packager.hpp"
#include "slurm_factory/plugin.hpp"
#include "slurm_factory/registry.hpp"

namespace fs = std::filesystem;

namespace {

using sf::pkg::Role;

[[noreturn]] void fail(const std::string& what, const fs::path& where, const std::string& fix) {
  throw sf::PackagingError(what, {{"packager", "oci"}, {"file", where.string()}}, fix);
}

// "slurm-24.11.5-trixie-amd64-software" -> "slurm-24.11.5-trixie-amd64-images.oci.tar"
std::string layout_name(const std::string& basename) {
  const std::string suffix = "-software";
  std::string stem = basename;
  if (stem.size() > suffix.size() &&
      stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0) {
    stem.resize(stem.size() - suffix.size());
  }
  return stem + "-images.oci.tar";
}

std::string port_of(const std::string& role) {
  if (role == "slurmctld") return "6817/tcp";
  if (role == "slurmd") return "6818/tcp";
  if (role == "slurmdbd") return "6819/tcp";
  if (role == "slurmrestd") return "6820/tcp";
  return "";
}

Role daemon_role(const std::string& role) {
  if (role == "slurmctld") return Role::kSlurmctld;
  if (role == "slurmd") return Role::kSlurmd;
  if (role == "slurmdbd") return Role::kSlurmdbd;
  return Role::kSlurmrestd;
}

class OciPackager final : public sf::Packager {
 public:
  explicit OciPackager(const nlohmann::json& settings)
      : settings_(sf::oci::parse_oci_settings(settings)) {}
  std::string name() const override { return "oci"; }
  std::string extension() const override { return ".oci.tar"; }

  sf::PackageOutput package(const sf::PackageInput& input) override {
    const sf::ArtifactDescription& a = input.artifact;
    const fs::path target = input.output_dir / layout_name(input.basename);
    if (!input.runtime_rootfs) {
      fail("no container engine was given to make the images' base layer", target,
           "make images with build-slurm --packager oci or `slurm-factory package --packager "
           "oci` on a host with docker or podman");
    }
    sf::pkg::PackageTrees trees(input, settings_.package.install_root, "oci",
                                sf::pkg::LibraryMode::kExecutable);
    const std::string root = trees.install_root();
    sf::pkg::write_package_file(trees.tree(Role::kCommon).root / sf::oci::kEntrypointPath,
                                sf::oci::entrypoint_script(root), fs::perms(0755), "oci");

    // The base: the release's runtime filesystem with the OS packages holding the libraries the
    // view does not bundle (as a .deb depends on them).
    std::set<std::string> os_packages;
    for (const auto& s : a.system_packages) {
      if (!s.package.empty()) os_packages.insert(s.package);
    }
    const sf::RootfsLayer base =
        input.runtime_rootfs(std::vector<std::string>(os_packages.begin(), os_packages.end()));

    const fs::path layout = trees.work() / "oci-layout";
    const fs::path blobs = layout / "blobs/sha256";
    std::error_code ec;
    fs::create_directories(blobs, ec);
    if (ec)
      fail("cannot create the layout folder: " + ec.message(), blobs, "check the output folder");
    const std::int64_t mtime = sf::pkg::package_mtime(input.mtime);

    // The view's layers, made two at a time (the common one is most of the bytes).
    std::vector<Role> wanted{Role::kCommon, Role::kClient};
    for (const auto& r : settings_.roles) {
      if (r != "login") wanted.push_back(daemon_role(r));
    }
    std::map<Role, std::future<sf::oci::Layer>> jobs;
    for (Role r : wanted) {
      jobs[r] = std::async(std::launch::async, [this, r, &trees, &blobs, mtime] {
        return make_layer(trees, r, blobs, mtime);
      });
    }
    std::map<Role, sf::oci::Layer> layers;
    for (auto& [r, job] : jobs) layers[r] = job.get();

    sf::oci::Layer base_layer;
    base_layer.blob = {sf::oci::kLayerGzipType, "sha256:" + base.digest, base.size, {}};
    base_layer.diff_id = "sha256:" + base.diff_id;
    base_layer.created_by =
        "slurm-factory: " + a.toolchain + "'s runtime filesystem (" + base.base_image + ")";
    place_blob(base.file, blobs / base.digest);

    std::vector<sf::oci::Descriptor> manifests;
    const std::string tag =
        sf::oci::image_tag(a.slurm_version, a.toolchain, a.gpu, a.arch, settings_.package.revision);
    for (const auto& role : settings_.roles) {
      sf::oci::ImageSpec image;
      image.role = role;
      image.arch = sf::oci::oci_arch(a.arch);
      image.created = sf::oci::rfc3339(mtime);
      std::string path = "PATH=";
      path.append(root)
          .append("/view/sbin:")
          .append(root)
          .append("/view/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
      image.env = {path};
      image.entrypoint = {"/" + std::string(sf::oci::kEntrypointPath)};
      image.cmd = {role};
      if (const std::string p = port_of(role); !p.empty()) image.ports = {p};
      image.labels = labels(input, role, base);
      image.layers = {base_layer, layers.at(Role::kCommon), layers.at(Role::kClient)};
      if (role != "login") image.layers.push_back(layers.at(daemon_role(role)));
      const std::string config = sf::oci::config_json(image);
      const auto config_blob = sf::oci::describe_json(sf::oci::kConfigType, config);
      write_blob(blobs, config_blob, config);
      const std::string manifest = sf::oci::manifest_json(config_blob, image);
      auto manifest_blob = sf::oci::describe_json(sf::oci::kManifestType, manifest);
      write_blob(blobs, manifest_blob, manifest);
      std::string ref = settings_.package.name_prefix;
      ref.append(role).append(":").append(tag);
      manifest_blob.annotations["org.opencontainers.image.ref.name"] = ref;
      manifests.push_back(manifest_blob);
    }
    sf::pkg::write_package_file(layout / "oci-layout", sf::oci::layout_json(), fs::perms(0644),
                                "oci");
    sf::pkg::write_package_file(layout / "index.json", sf::oci::index_json(manifests),
                                fs::perms(0644), "oci");
    sf::ArchiveWriteOptions options;
    options.compression = sf::ArchiveCompression::kNone;
    options.fixed_mtime = mtime;
    options.hash_files = false;
    auto written = sf::write_archive(layout, target, options);
    if (!written) fail(written.error().message, target, "check the output folder");
    return {{target}};
  }

 private:
  // One role's tree as a gzip layer in `blobs`.
  sf::oci::Layer make_layer(sf::pkg::PackageTrees& trees, Role r, const fs::path& blobs,
                            std::int64_t mtime) const {
    const fs::path tar = trees.work() / ("layer-" + sf::pkg::role_name(r) + ".tar");
    fs::create_directories(trees.tree(r).root);
    sf::ArchiveWriteOptions options;
    options.compression = sf::ArchiveCompression::kNone;
    options.fixed_mtime = mtime;
    options.hash_files = false;
    auto written = sf::write_archive(trees.tree(r).root, tar, options);
    if (!written) fail(written.error().message, tar, "check the output folder's free space");
    const fs::path gz = trees.work() / ("layer-" + sf::pkg::role_name(r) + ".tar.gz");
    auto packed = sf::gzip_file(tar, gz, settings_.compression_level);
    if (!packed) fail(packed.error().message, gz, "check the output folder's free space");
    std::error_code ec;
    fs::remove(tar, ec);
    fs::rename(gz, blobs / packed->sha256, ec);
    if (ec) fail("cannot move the layer into the layout: " + ec.message(), gz, "check the folder");
    sf::oci::Layer layer;
    layer.blob = {sf::oci::kLayerGzipType, "sha256:" + packed->sha256, packed->size, {}};
    layer.diff_id = "sha256:" + packed->source_sha256;
    layer.created_by = "slurm-factory: the view's " + sf::pkg::role_name(r) + " files (" +
                       sf::pkg::role_summary(r) + ")";
    return layer;
  }

  std::map<std::string, std::string> labels(const sf::PackageInput& input, const std::string& role,
                                            const sf::RootfsLayer& base) const {
    const sf::ArtifactDescription& a = input.artifact;
    std::string gpu;
    for (const auto& g : a.gpu) gpu += (gpu.empty() ? "" : ",") + g;
    std::map<std::string, std::string> l{
        {"org.opencontainers.image.title", settings_.package.name_prefix + role},
        {"org.opencontainers.image.version", a.slurm_version},
        {"org.opencontainers.image.description", "Slurm " + a.slurm_version + " " + role + " for " +
                                                     a.os_name + ", built by slurm-factory"},
        {"org.opencontainers.image.authors", settings_.package.maintainer},
        {"org.opencontainers.image.base.name",
         a.base_image.empty() ? base.base_image : a.base_image},
        {"org.slurm-factory.role", role},
        {"org.slurm-factory.slurm-version", a.slurm_version},
        {"org.slurm-factory.toolchain", a.toolchain},
        {"org.slurm-factory.arch", a.arch},
        {"org.slurm-factory.gpu", gpu.empty() ? "none" : gpu},
        {"org.slurm-factory.install-root", trees_root(input)},
        {"org.slurm-factory.builder-version", a.builder_version}};
    if (!input.main_artifact.empty()) {
      l["org.slurm-factory.artifact"] = input.main_artifact.filename().string();
      l["org.slurm-factory.artifact.sha256"] = input.main_artifact_sha256;
    }
    return l;
  }

  std::string trees_root(const sf::PackageInput& input) const {
    if (!settings_.package.install_root.empty()) return settings_.package.install_root;
    return input.artifact.install_root.empty() ? "/opt/slurm" : input.artifact.install_root;
  }

  static void write_blob(const fs::path& blobs, const sf::oci::Descriptor& d,
                         const std::string& bytes) {
    sf::pkg::write_package_file(blobs / d.digest.substr(7), bytes, fs::perms(0644), "oci");
  }

  // The cached base layer in the layout: a hard link, a copy across filesystems.
  static void place_blob(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::create_hard_link(from, to, ec);
    if (!ec) return;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) fail("cannot copy the base layer: " + ec.message(), from, "check the folders");
  }

  sf::oci::OciSettings settings_;
};

void register_oci(sf::Registry& registry) {
  registry.add_packager("oci", [](const nlohmann::json& settings) {
    return std::make_unique<OciPackager>(settings);
  });
  registry.add_package_repository("oci", sf::oci::make_oci_repository);
}

}  // namespace

SLURM_FACTORY_PLUGIN("packager-oci", "1.0.0",
                     "Container images per Slurm role (slurmctld, slurmd, slurmdbd, slurmrestd, "
                     "login) as an OCI image layout, pushed to a registry by --publish all",
                     register_oci)
