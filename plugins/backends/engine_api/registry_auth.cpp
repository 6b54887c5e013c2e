#include "engine_api/registry_auth.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "slurm_factory/environment.hpp"

namespace sf {
namespace {

std::string b64_decode(const std::string& in) {
  std::string out(3 * in.size() / 4 + 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return {};
  out.resize(static_cast<std::size_t>(n));
  std::size_t pad = 0;
  for (auto it = in.rbegin(); it != in.rend() && *it == '='; ++it) ++pad;
  out.resize(out.size() - std::min(pad, out.size()));
  return out;
}

std::string b64url_encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

}  // namespace

std::string registry_of(const std::string& ref) {
  const auto slash = ref.find('/');
  if (slash == std::string::npos) return "docker.io";
  const std::string first = ref.substr(0, slash);
  if (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
      first == "localhost") {
    return first;
  }
  return "docker.io";
}

std::vector<std::filesystem::path> registry_auth_files() {
  std::vector<std::filesystem::path> files;
  if (!env("REGISTRY_AUTH_FILE").empty()) files.emplace_back(env("REGISTRY_AUTH_FILE"));
  if (!env("XDG_RUNTIME_DIR").empty()) {
    files.emplace_back(std::filesystem::path(env("XDG_RUNTIME_DIR")) / "containers/auth.json");
  }
  const std::string home = env("HOME");
  if (!home.empty())
    files.emplace_back(std::filesystem::path(home) / ".config/containers/auth.json");
  if (!env("DOCKER_CONFIG").empty()) {
    files.emplace_back(std::filesystem::path(env("DOCKER_CONFIG")) / "config.json");
  }
  if (!home.empty()) files.emplace_back(std::filesystem::path(home) / ".docker/config.json");
  return files;
}

std::optional<RegistryCredentials> registry_credentials(
    const std::string& registry, const std::vector<std::filesystem::path>& files) {
  std::vector<std::string> keys{registry, "https://" + registry, "http://" + registry};
  if (registry == "docker.io") {
    keys.insert(keys.begin(), {"https://index.docker.io/v1/", "index.docker.io"});
  }
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) continue;
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_object() || !j.contains("auths") || !j["auths"].is_object()) continue;
    for (const auto& key : keys) {
      if (!j["auths"].contains(key) || !j["auths"][key].is_object()) continue;
      const auto& entry = j["auths"][key];
      const auto auth = entry.find("auth");
      if (auth == entry.end() || !auth->is_string()) continue;
      const std::string decoded = b64_decode(auth->get<std::string>());
      const auto colon = decoded.find(':');
      if (colon == std::string::npos) continue;
      return RegistryCredentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
    }
  }
  return std::nullopt;
}

std::string basic_authorization(const RegistryCredentials& credentials) {
  std::string out = b64url_encode(credentials.username + ":" + credentials.password);
  for (char& c : out) {  // standard alphabet for Basic
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  return "Basic " + out;
}

std::optional<std::string> registry_auth_header(const std::string& ref,
                                                const std::vector<std::filesystem::path>& files) {
  const std::string registry = registry_of(ref);
  const auto credentials = registry_credentials(registry, files);
  if (!credentials) return std::nullopt;
  nlohmann::json auth{{"username", credentials->username},
                      {"password", credentials->password},
                      {"serveraddress", registry}};
  return b64url_encode(auth.dump());
}

}  // namespace sf
