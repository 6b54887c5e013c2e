// The OCI image documents of the oci packager (OCI image spec 1.0): each image's config (the
// runtime's Env, Entrypoint, Cmd, ports, labels, the layers' diff_ids), its manifest (config and
// layer descriptors with sha256 digests) and the layout's index.json (every image with its
// reference name). Plain data in, canonical JSON text out: the same inputs give the same bytes
// (object keys sorted, no spaces), so an image's digest is reproducible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sf::oci {

inline constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kConfigType = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kLayerGzipType = "application/vnd.oci.image.layer.v1.tar+gzip";

// One blob as a descriptor names it.
struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  std::uint64_t size = 0;
  std::map<std::string, std::string> annotations;
};

struct Layer {
  Descriptor blob;         // the compressed layer
  std::string diff_id;     // "sha256:<hex>" of the uncompressed tar
  std::string created_by;  // the history entry ("slurm-factory: the view's common files")
};

// What one image is (a role's image).
struct ImageSpec {
  std::string role;     // "slurmctld", ..., "login"
  std::string arch;     // OCI's name ("amd64", "arm64")
  std::string created;  // RFC 3339 ("2026-12-06T00:00:00Z"), the tree's time
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> ports;  // "6817/tcp"
  std::map<std::string, std::string> labels;
  std::vector<Layer> layers;  // base first
};

std::string config_json(const ImageSpec& image);
// The manifest of `image` whose config blob is `config`.
std::string manifest_json(const Descriptor& config, const ImageSpec& image);
// index.json of a layout holding `manifests` (each with its org.opencontainers.image.ref.name).
std::string index_json(const std::vector<Descriptor>& manifests);
// The oci-layout file.
std::string layout_json();

// "sha256:" + the hex sha256 of `bytes`, with its size: a blob of JSON text.
Descriptor describe_json(const std::string& media_type, const std::string& bytes);

// OCI's architecture name for Debian's ("amd64" -> "amd64", "arm64" -> "arm64", "ppc64el" ->
// "ppc64le", "i386" -> "386"); the name itself when it is the same in both.
std::string oci_arch(const std::string& debian_arch);
// RFC 3339 UTC of seconds since the epoch.
std::string rfc3339(std::int64_t seconds);

}  // namespace sf::oci
