#include "oci_image.hpp"

#include <array>
#include <ctime>
#include <nlohmann/json.hpp>

#include "slurm_factory/digest.hpp"

namespace sf::oci {
namespace {

nlohmann::json descriptor(const Descriptor& d) {
  nlohmann::json j{{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  return j;
}

}  // namespace

std::string config_json(const ImageSpec& image) {
  nlohmann::json config{{"Env", image.env},  {"Entrypoint", image.entrypoint},
                        {"Cmd", image.cmd},  {"Labels", image.labels},
                        {"WorkingDir", "/"}, {"StopSignal", "SIGTERM"}};
  if (!image.ports.empty()) {
    nlohmann::json ports = nlohmann::json::object();
    for (const auto& p : image.ports) ports[p] = nlohmann::json::object();
    config["ExposedPorts"] = ports;
  }
  nlohmann::json diff_ids = nlohmann::json::array();
  nlohmann::json history = nlohmann::json::array();
  for (const auto& l : image.layers) {
    diff_ids.push_back(l.diff_id);
    history.push_back({{"created", image.created}, {"created_by", l.created_by}});
  }
  return nlohmann::json{{"created", image.created},
                        {"architecture", image.arch},
                        {"os", "linux"},
                        {"config", config},
                        {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                        {"history", history}}
      .dump();
}

std::string manifest_json(const Descriptor& config, const ImageSpec& image) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : image.layers) layers.push_back(descriptor(l.blob));
  return nlohmann::json{{"schemaVersion", 2},
                        {"mediaType", kManifestType},
                        {"config", descriptor(config)},
                        {"layers", layers},
                        {"annotations", image.labels}}
      .dump();
}

std::string index_json(const std::vector<Descriptor>& manifests) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : manifests) list.push_back(descriptor(m));
  return nlohmann::json{{"schemaVersion", 2}, {"mediaType", kIndexType}, {"manifests", list}}
      .dump();
}

std::string layout_json() { return nlohmann::json{{"imageLayoutVersion", "1.0.0"}}.dump(); }

Descriptor describe_json(const std::string& media_type, const std::string& bytes) {
  return {media_type, "sha256:" + sha256_hex(bytes), bytes.size(), {}};
}

std::string oci_arch(const std::string& debian_arch) {
  if (debian_arch == "ppc64el") return "ppc64le";
  if (debian_arch == "i386") return "386";
  if (debian_arch == "armhf" || debian_arch == "armel") return "arm";
  return debian_arch;
}

std::string rfc3339(std::int64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

}  // namespace sf::oci
