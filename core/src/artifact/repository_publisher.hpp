// Publishing a build's OS packages into the package repository of their packager (an APT
// repository for "deb", package_repository.hpp) on writable layers: the repository plugin gets a
// RepositoryStore on each layer, under "<repository name>/" ("apt/"), and the site's signer and
// trust. A layer that fails stops only its own publication; the reports say what each got.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slurm_factory/cache_provider.hpp"
#include "slurm_factory/package_repository.hpp"

namespace sf {

class GpgSigner;
class GpgVerifier;

// The layer `provider` seen under `prefix` ("apt/"): keys are checked (relative, no "..").
class LayerRepositoryStore final : public RepositoryStore {
 public:
  LayerRepositoryStore(CacheProvider& provider, std::string prefix);
  std::string location() const override;
  Expected<bool> has(const std::string& key) override;
  Expected<void> get(const std::string& key, const std::filesystem::path& destination,
                     std::uint64_t max_bytes) override;
  Expected<void> put(const std::string& key, const std::filesystem::path& source) override;

 private:
  Expected<std::string> full_key(const std::string& key) const;
  CacheProvider& provider_;
  std::string prefix_;
};

// The config's signing key and trust anchor.
class SiteRepositorySigner final : public RepositorySigner {
 public:
  SiteRepositorySigner(const GpgSigner& signer, const GpgVerifier& verifier);
  std::string fingerprint() const override;
  std::string sign_detached(const std::string& data) const override;
  std::string sign_clear(const std::string& text) const override;
  bool trusted(const std::string& data, const std::string& signature) const override;

 private:
  const GpgSigner& signer_;
  const GpgVerifier& verifier_;
};

struct RepositoryPublication {
  std::string layer;
  std::string repository;  // "apt"
  RepositoryReport report;
  std::string failure;  // empty: published
  nlohmann::json to_json() const;
};

// Publishes `packages` (one packager's files of one build) with `repository` to each of `layers`.
// `scratch` is made and removed per layer. Never throws for one layer's failure (recorded);
// throws SigningError when there is no signer.
std::vector<RepositoryPublication> publish_to_repository(
    SignedRepository& repository, const std::vector<std::filesystem::path>& packages,
    const ArtifactDescription& artifact, const std::vector<CacheProvider*>& layers,
    const GpgSigner* signer, const GpgVerifier& verifier, const std::filesystem::path& scratch);

}  // namespace sf
