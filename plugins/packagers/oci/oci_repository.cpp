#include "oci_repository.hpp"

#include <fstream>
#include <set>

#include "oci_image.hpp"
#include "oci_registry.hpp"
#include "oci_settings.hpp"
#include "repository_io.hpp"
#include "slurm_factory/archive_files.hpp"
#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"

namespace fs = std::filesystem;

namespace sf::oci {
namespace {

constexpr std::uint64_t kMaxLayoutBytes = std::uint64_t{8} << 30;

[[noreturn]] void bad_layout(const fs::path& file, const std::string& what) {
  throw VerificationError("the OCI layout does not hold what it says: " + what,
                          {{"packager", "oci"}, {"file", file.string()}},
                          "make the images again (build-slurm --packager oci); nothing was pushed");
}

class OciRepository final : public SignedRepository {
 public:
  explicit OciRepository(OciSettings settings) : settings_(std::move(settings)) {}
  std::string name() const override { return "oci"; }

  RepositoryReport publish(const RepositoryInput& input, RepositoryStore& store,
                           const RepositorySigner& signer) override {
    if (settings_.registry.empty()) {
      throw ConfigurationError(
          "packagers.oci.registry is not set: the images have nowhere to go",
          {{"setting", "packagers.oci.registry"}},
          "set packagers.oci.registry to host[:port]/namespace (docs/packaging.md), or load the "
          "layout file with `podman load`");
    }
    const RegistryLocation location = parse_registry(settings_.registry, settings_.plain_http);
    RegistryClient client(location, registry_credentials(location.host, registry_auth_files()));
    RepositoryReport report;
    pkg::RepositoryIo io("oci", store, report);
    nlohmann::json images = nlohmann::json::array();
    std::string tag;
    for (const auto& file : input.packages) {
      const std::string bytes = pkg::read_whole_file(file);
      auto files = read_archive_files(bytes, kMaxLayoutBytes);
      if (!files) bad_layout(file, files.error().message);
      push_layout(file, *files, client, location, input.scratch, images, tag, report);
    }
    if (images.empty())
      bad_layout(input.packages.empty() ? fs::path() : input.packages.front(), "it lists no image");
    const ArtifactDescription& a = input.artifact;
    const nlohmann::json record{{"format", 1},
                                {"registry", location.host},
                                {"slurm_version", a.slurm_version},
                                {"toolchain", a.toolchain},
                                {"arch", a.arch},
                                {"gpu", a.gpu},
                                {"tag", tag},
                                {"images", images}};
    const std::string text = record.dump(2) + "\n";
    const std::string key = a.toolchain + "/" + a.arch + "/" + tag + ".json";
    const fs::path record_file = input.scratch / "record.json";
    const fs::path signature_file = input.scratch / "record.json.asc";
    {
      std::ofstream out(record_file, std::ios::trunc);
      out << text;
      std::ofstream sig(signature_file, std::ios::trunc);
      sig << signer.sign_detached(text);
    }
    io.upload(key, record_file);
    io.upload(key + ".asc", signature_file);
    report.index = key;
    report.listed = images.size();
    return report;
  }

 private:
  // Checks every blob a manifest names against its digest, then pushes layers, config, manifest.
  void push_layout(const fs::path& file, const std::map<std::string, std::string>& files,
                   RegistryClient& client, const RegistryLocation& location,
                   const fs::path& scratch, nlohmann::json& images, std::string& tag,
                   RepositoryReport& report) {
    std::set<std::string> checked;
    auto blob = [&](const std::string& digest) -> const std::string& {
      if (digest.rfind("sha256:", 0) != 0 || digest.size() != 71) {
        bad_layout(file, "'" + digest + "' is not a sha256 digest");
      }
      const auto it = files.find("blobs/sha256/" + digest.substr(7));
      if (it == files.end()) bad_layout(file, "the blob " + digest + " is missing");
      if (checked.insert(digest).second && "sha256:" + sha256_hex(it->second) != digest) {
        bad_layout(file, "the blob " + digest + " has other bytes");
      }
      return it->second;
    };
    const auto index_it = files.find("index.json");
    if (index_it == files.end()) bad_layout(file, "no index.json");
    const auto index = nlohmann::json::parse(index_it->second, nullptr, false);
    if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
      bad_layout(file, "index.json lists no manifests");
    }
    for (const auto& m : index["manifests"]) {
      const std::string digest = m.value("digest", "");
      std::string ref;
      if (m.contains("annotations") && m["annotations"].is_object()) {
        ref = m["annotations"].value("org.opencontainers.image.ref.name", "");
      }
      const auto colon = ref.find(':');
      if (colon == std::string::npos || colon == 0) bad_layout(file, "a manifest has no name:tag");
      const std::string name = ref.substr(0, colon);
      tag = ref.substr(colon + 1);
      const std::string repository =
          location.namespace_.empty() ? name : location.namespace_ + "/" + name;
      const std::string& manifest_bytes = blob(digest);
      const auto manifest = nlohmann::json::parse(manifest_bytes, nullptr, false);
      if (!manifest.is_object() || !manifest.contains("layers") || !manifest.contains("config")) {
        bad_layout(file, "the manifest " + digest + " is not an image manifest");
      }
      std::vector<std::string> parts;
      for (const auto& l : manifest["layers"]) parts.push_back(l.value("digest", ""));
      parts.push_back(manifest["config"].value("digest", ""));
      for (const auto& d : parts) {
        const std::string& bytes = blob(d);
        const fs::path staged = scratch / d.substr(7);
        if (!fs::exists(staged)) {
          std::ofstream out(staged, std::ios::binary | std::ios::trunc);
          out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        }
        const std::string how = client.push_blob(repository, d, staged);
        if (how == "present") {
          report.present.push_back(client.reference(repository) + "@" + d);
        } else {
          report.uploaded.push_back(client.reference(repository) + "@" + d);
        }
      }
      const std::string pushed = client.put_manifest(
          repository, tag, manifest.value("mediaType", std::string(kManifestType)), manifest_bytes);
      std::string role;
      const auto config =
          nlohmann::json::parse(blob(manifest["config"].value("digest", "")), nullptr, false);
      nlohmann::json labels = nlohmann::json::object();
      if (config.is_object() && config.contains("config") && config["config"].is_object() &&
          config["config"].contains("Labels")) {
        labels = config["config"]["Labels"];
      }
      images.push_back(
          {{"reference", client.reference(repository) + ":" + tag},
           {"digest", pushed},
           {"role", labels.value("org.slurm-factory.role", "")},
           {"artifact", labels.value("org.slurm-factory.artifact", "")},
           {"artifact_sha256", labels.value("org.slurm-factory.artifact.sha256", "")}});
      report.uploaded.push_back(client.reference(repository) + ":" + tag + "@" + pushed);
    }
  }

  OciSettings settings_;
};

}  // namespace

std::unique_ptr<SignedRepository> make_oci_repository(const nlohmann::json& settings) {
  return std::make_unique<OciRepository>(parse_oci_settings(settings));
}

}  // namespace sf::oci
