// Pushing images to an OCI registry through the distribution API (HTTP, libcurl through the SDK's
// client): a blob the repository has is not sent again, one another repository of the same push
// has is mounted from it, any other is uploaded in one monolithic PUT; manifests are put by tag
// and the digest the registry answers must be the one computed here. Authentication as docker does
// it: an anonymous request first, then on 401 the challenge's scheme (Basic with the credentials,
// or Bearer: a token from the challenge's realm for the repository's pull,push scope). Credentials
// never appear in messages.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "engine_api/registry_auth.hpp"
#include "slurm_factory/http_client.hpp"

namespace sf::oci {

// "host[:port]/namespace..." split, checked (no scheme, no credentials, lower-case path).
struct RegistryLocation {
  std::string host;        // "registry.example.org:5000"
  std::string namespace_;  // "hpc/slurm" ("" for none)
  bool plain_http = false;
};
// Throws ConfigurationError naming packagers.oci.registry.
RegistryLocation parse_registry(const std::string& text, std::optional<bool> plain_http);

// A WWW-Authenticate challenge: scheme ("bearer", "basic") and its parameters.
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
};
Challenge parse_challenge(const std::string& header);
// Whether the credentials may go to the token service at `realm`: an https URL, or an http one for
// a registry spoken to over plain HTTP (a loopback test registry).
bool token_service_allowed(const std::string& realm, bool plain_http_registry);

class RegistryClient {
 public:
  // `credentials`: from the standard auth files (registry_auth.hpp), none for an open registry.
  RegistryClient(RegistryLocation location, std::optional<RegistryCredentials> credentials);
  ~RegistryClient();

  // Whether `repository` has the blob ("sha256:<hex>").
  bool has_blob(const std::string& repository, const std::string& digest);
  // Uploads `file` as the blob `digest` of `repository` unless it has it: "present", "mounted" or
  // "uploaded". Throws PackagingError naming the registry, repository and blob.
  std::string push_blob(const std::string& repository, const std::string& digest,
                        const std::filesystem::path& file);
  // Puts the manifest under `tag`; returns the registry's digest (which must be `bytes`' own).
  std::string put_manifest(const std::string& repository, const std::string& tag,
                           const std::string& media_type, const std::string& bytes);
  // "host/repository" for messages and references.
  std::string reference(const std::string& repository) const;

 private:
  http::Response send(http::Request request, const std::string& repository);
  std::string base() const;
  [[noreturn]] void fail(const std::string& what, const std::string& repository,
                         const std::string& object) const;

  RegistryLocation location_;
  std::optional<RegistryCredentials> credentials_;
  std::unique_ptr<http::HttpClient> client_;
  std::map<std::string, std::string> tokens_;     // scope -> bearer token
  std::string basic_;                             // "Basic ..." once the registry asked for it
  std::map<std::string, std::string> blob_home_;  // digest -> a repository that has it
};

}  // namespace sf::oci
