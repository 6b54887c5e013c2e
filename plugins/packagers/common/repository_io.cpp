#include "repository_io.hpp"

#include <fstream>
#include <sstream>

#include "slurm_factory/errors.hpp"

namespace sf::pkg {

bool RepositoryIo::fetch(const std::string& key, const std::filesystem::path& dest,
                         std::uint64_t cap) {
  auto r = store_.get(key, dest, cap);
  if (r) return true;
  if (r.error().kind == Failure::Kind::kNotFound) return false;
  layer_failed(key, r.error().message);
}

void RepositoryIo::upload(const std::string& key, const std::filesystem::path& source) {
  if (auto r = store_.put(key, source); !r) layer_failed(key, r.error().message);
  report_.uploaded.push_back(key);
}

bool RepositoryIo::has(const std::string& key) {
  auto r = store_.has(key);
  if (!r) layer_failed(key, r.error().message);
  return *r;
}

void RepositoryIo::layer_failed(const std::string& key, const std::string& why) const {
  throw PackagingError(repository_ + " repository: " + key + ": " + why,
                       {{"repository", repository_}, {"layer", store_.location()}, {"object", key}},
                       "check that the layer is reachable and writable, then publish again");
}

void RepositoryIo::untrusted(const std::string& key, const std::string& why) const {
  throw VerificationError(
      repository_ + " repository: " + key + " in " + store_.location() + " " + why +
          "; nothing was published (merging would sign what no trusted key signed)",
      {{"repository", repository_}, {"layer", store_.location()}, {"object", key}},
      "import the key that signed the repository (`slurm-factory cache keys import`), or publish "
      "to a layer without this repository");
}

std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace sf::pkg
