#include "artifact/repository_publisher.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

#include "signing/gpg_signer.hpp"
#include "signing/gpg_verifier.hpp"
#include "slurm_factory/errors.hpp"
#include "slurm_factory/log.hpp"

namespace fs = std::filesystem;

namespace sf {

LayerRepositoryStore::LayerRepositoryStore(CacheProvider& provider, std::string prefix)
    : provider_(provider), prefix_(std::move(prefix)) {}

std::string LayerRepositoryStore::location() const { return provider_.location() + "/" + prefix_; }

Expected<std::string> LayerRepositoryStore::full_key(const std::string& key) const {
  const bool bad = key.empty() || key.front() == '/' || key.find("//") != std::string::npos ||
                   key.find('\\') != std::string::npos || key.find('\0') != std::string::npos ||
                   key == ".." || key.rfind("../", 0) == 0 ||
                   key.find("/../") != std::string::npos ||
                   (key.size() >= 3 && key.compare(key.size() - 3, 3, "/..") == 0);
  if (bad) return Failure::error("refused repository key '" + key + "': not a plain relative path");
  return prefix_ + key;
}

Expected<bool> LayerRepositoryStore::has(const std::string& key) {
  auto k = full_key(key);
  if (!k) return k.error();
  return provider_.has(*k);
}

Expected<void> LayerRepositoryStore::get(const std::string& key, const fs::path& destination,
                                         std::uint64_t max_bytes) {
  auto k = full_key(key);
  if (!k) return k.error();
  return provider_.get_at_most(*k, destination, max_bytes);
}

Expected<void> LayerRepositoryStore::put(const std::string& key, const fs::path& source) {
  auto k = full_key(key);
  if (!k) return k.error();
  return provider_.put(*k, source);
}

SiteRepositorySigner::SiteRepositorySigner(const GpgSigner& signer, const GpgVerifier& verifier)
    : signer_(signer), verifier_(verifier) {}

std::string SiteRepositorySigner::fingerprint() const { return signer_.fingerprint(); }
std::string SiteRepositorySigner::sign_detached(const std::string& data) const {
  return signer_.sign_detached(data);
}
std::string SiteRepositorySigner::sign_clear(const std::string& text) const {
  return signer_.sign_clear(text);
}
bool SiteRepositorySigner::trusted(const std::string& data, const std::string& signature) const {
  return verifier_.verify_detached(data, signature).has_value();
}

nlohmann::json RepositoryPublication::to_json() const {
  nlohmann::json j{
      {"layer", layer},          {"repository", repository},    {"index", report.index},
      {"listed", report.listed}, {"uploaded", report.uploaded}, {"present", report.present}};
  if (!failure.empty()) j["failure"] = failure;
  return j;
}

std::vector<RepositoryPublication> publish_to_repository(
    SignedRepository& repository, const std::vector<fs::path>& packages,
    const ArtifactDescription& artifact, const std::vector<CacheProvider*>& layers,
    const GpgSigner* signer, const GpgVerifier& verifier, const fs::path& scratch) {
  if (signer == nullptr) {
    throw SigningError("a package repository is published only signed, and no signing key is set",
                       {{"repository", repository.name()}},
                       "configure signing.key_id (or let the cache's automatic key sign)");
  }
  const SiteRepositorySigner site(*signer, verifier);
  std::vector<RepositoryPublication> out;
  for (CacheProvider* layer : layers) {
    RepositoryPublication pub;
    pub.layer = layer->name();
    pub.repository = repository.name();
    LayerRepositoryStore store(*layer, repository.name() + "/");
    RepositoryInput input;
    input.packages = packages;
    input.artifact = artifact;
    input.scratch = scratch / (layer->name() + "-" + repository.name());
    input.now = static_cast<std::int64_t>(std::time(nullptr));
    std::error_code ec;
    fs::remove_all(input.scratch, ec);
    fs::create_directories(input.scratch, ec);
    try {
      pub.report = repository.publish(input, store, site);
    } catch (const SlurmFactoryError& e) {
      pub.failure = e.what();
      log().error("repository {} on layer {}: {}", repository.name(), layer->name(), e.what());
    }
    fs::remove_all(input.scratch, ec);
    out.push_back(std::move(pub));
  }
  return out;
}

}  // namespace sf
