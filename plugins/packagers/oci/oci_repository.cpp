#include "oci_repository.hpp"

#include <fstream>
#include <regex>
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
    // Every layout read back and every blob checked against its digest before anything is sent.
    std::vector<std::map<std::string, std::string>> layouts;
    std::vector<Planned> plan;
    layouts.reserve(input.packages.size());
    for (const auto& file : input.packages) {
      const std::string bytes = pkg::read_whole_file(file);
      auto files = read_archive_files(bytes, kMaxLayoutBytes);
      if (!files) bad_layout(file, files.error().message);
      layouts.push_back(std::move(*files));
      check_layout(file, layouts.back(), location, plan);
    }
    RegistryClient client(location, registry_credentials(location.host, registry_auth_files()));
    RepositoryReport report;
    pkg::RepositoryIo io("oci", store, report);
    nlohmann::json images = nlohmann::json::array();
    std::string tag;
    for (const auto& image : plan) {
      push(image, client, input.scratch, report);
      images.push_back({{"reference", client.reference(image.repository) + ":" + image.tag},
                        {"digest", image.digest},
                        {"role", image.role},
                        {"artifact", image.artifact},
                        {"artifact_sha256", image.artifact_sha256}});
      tag = image.tag;
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
    const std::string signature = signer.sign_detached(text);
    for (const auto& [file, bytes] :
         {std::pair{record_file, &text}, {signature_file, &signature}}) {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << *bytes;
      out.close();
      if (!out) {
        throw PackagingError("cannot write the record of the push", {{"file", file.string()}},
                             "check the free space of the temporary folder; the images are in "
                             "the registry, run --publish all again to record them");
      }
    }
    io.upload(key, record_file);
    io.upload(key + ".asc", signature_file);
    report.index = key;
    report.listed = images.size();
    return report;
  }

 private:
  // One image of a layout, checked: where it goes and the bytes of everything it is made of.
  struct Planned {
    std::string repository;
    std::string tag;
    std::string digest;  // of the manifest
    std::string media_type;
    const std::string* manifest = nullptr;
    std::vector<std::pair<std::string, const std::string*>> blobs;  // layers, then config
    std::string role;
    std::string artifact;
    std::string artifact_sha256;
  };

  static std::string label(const nlohmann::json& labels, const char* key) {
    const auto it = labels.find(key);
    return it != labels.end() && it->is_string() ? it->get<std::string>() : "";
  }

  // index.json, every manifest it names and every blob those name, each against its digest.
  static void check_layout(const fs::path& file, const std::map<std::string, std::string>& files,
                           const RegistryLocation& location, std::vector<Planned>& plan) {
    std::set<std::string> checked;
    auto blob = [&](const nlohmann::json& value) -> const std::string& {
      const std::string digest = value.is_string() ? value.get<std::string>() : "";
      if (digest.size() != 71 || digest.rfind("sha256:", 0) != 0 ||
          digest.find_first_not_of("0123456789abcdef", 7) != std::string::npos) {
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
    static const std::regex kName("[a-z0-9]+([._-][a-z0-9]+)*");
    static const std::regex kTag("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    for (const auto& m : index["manifests"]) {
      if (!m.is_object()) bad_layout(file, "index.json lists something that is no descriptor");
      std::string ref;
      if (m.contains("annotations") && m["annotations"].is_object()) {
        ref = label(m["annotations"], "org.opencontainers.image.ref.name");
      }
      const auto colon = ref.find(':');
      Planned image;
      if (colon != std::string::npos) {
        image.tag = ref.substr(colon + 1);
        const std::string name = ref.substr(0, colon);
        if (std::regex_match(name, kName)) {
          image.repository = location.namespace_.empty() ? name : location.namespace_ + "/" + name;
        }
      }
      if (image.repository.empty() || !std::regex_match(image.tag, kTag)) {
        bad_layout(file, "a manifest has no plain name:tag ('" + ref + "')");
      }
      const nlohmann::json md = m.contains("digest") ? m["digest"] : nlohmann::json();
      image.manifest = &blob(md);
      image.digest = md.get<std::string>();
      const auto manifest = nlohmann::json::parse(*image.manifest, nullptr, false);
      if (!manifest.is_object() || !manifest.contains("layers") || !manifest["layers"].is_array() ||
          !manifest.contains("config") || !manifest["config"].is_object()) {
        bad_layout(file, "the manifest " + image.digest + " is not an image manifest");
      }
      image.media_type = label(manifest, "mediaType");
      if (image.media_type.empty()) image.media_type = kManifestType;
      for (const auto& l : manifest["layers"]) {
        const nlohmann::json d = l.is_object() && l.contains("digest") ? l["digest"] : nullptr;
        const std::string& bytes = blob(d);
        image.blobs.emplace_back(d.get<std::string>(), &bytes);
      }
      const nlohmann::json cd =
          manifest["config"].contains("digest") ? manifest["config"]["digest"] : nlohmann::json();
      const std::string& config_bytes = blob(cd);
      image.blobs.emplace_back(cd.get<std::string>(), &config_bytes);
      const auto config = nlohmann::json::parse(config_bytes, nullptr, false);
      if (config.is_object() && config.contains("config") && config["config"].is_object() &&
          config["config"].contains("Labels") && config["config"]["Labels"].is_object()) {
        const auto& labels = config["config"]["Labels"];
        image.role = label(labels, "org.slurm-factory.role");
        image.artifact = label(labels, "org.slurm-factory.artifact");
        image.artifact_sha256 = label(labels, "org.slurm-factory.artifact.sha256");
      }
      plan.push_back(std::move(image));
    }
  }

  // Layers and config (each blob written once to scratch), then the manifest by tag.
  static void push(const Planned& image, RegistryClient& client, const fs::path& scratch,
                   RepositoryReport& report) {
    for (const auto& [digest, bytes] : image.blobs) {
      const fs::path staged = scratch / digest.substr(7);
      if (!fs::exists(staged)) {
        std::ofstream out(staged, std::ios::binary | std::ios::trunc);
        out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
        if (!out) {
          throw PackagingError("cannot write a blob to push", {{"file", staged.string()}},
                               "check the free space of the temporary folder");
        }
      }
      const std::string how = client.push_blob(image.repository, digest, staged);
      (how == "present" ? report.present : report.uploaded)
          .push_back(client.reference(image.repository) + "@" + digest);
    }
    const std::string pushed =
        client.put_manifest(image.repository, image.tag, image.media_type, *image.manifest);
    if (pushed != image.digest) {
      throw VerificationError("the manifest pushed is not the one the layout names",
                              {{"repository", image.repository}, {"digest", image.digest}},
                              "make the images again");
    }
    report.uploaded.push_back(client.reference(image.repository) + ":" + image.tag + "@" + pushed);
  }

  OciSettings settings_;
};

}  // namespace

std::unique_ptr<SignedRepository> make_oci_repository(const nlohmann::json& settings) {
  return std::make_unique<OciRepository>(parse_oci_settings(settings));
}

}  // namespace sf::oci
