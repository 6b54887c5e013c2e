#include "oci_registry.hpp"

#include <nlohmann/json.hpp>
#include <regex>

#include "slurm_factory/digest.hpp"
#include "slurm_factory/errors.hpp"

namespace sf::oci {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool loopback(const std::string& host) {
  const std::string name =
      host.substr(0, host.rfind(':') == std::string::npos || host.front() == '[' ? host.size()
                                                                                 : host.rfind(':'));
  return name == "localhost" || name.rfind("127.", 0) == 0 || host.rfind("[::1]", 0) == 0;
}

}  // namespace

RegistryLocation parse_registry(const std::string& text, std::optional<bool> plain_http) {
  static const std::regex kHost(
      R"(((localhost|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+|\[::1\])(:[0-9]{1,5})?))");
  static const std::regex kNamespace(R"([a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*)");
  const auto slash = text.find('/');
  RegistryLocation out;
  out.host = text.substr(0, slash);
  out.namespace_ = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (!std::regex_match(out.host, kHost) ||
      (!out.namespace_.empty() && !std::regex_match(out.namespace_, kNamespace)) ||
      text.size() > 200) {
    throw ConfigurationError(
        "packagers.oci.registry: '" + text + "' is not a registry and namespace",
        {{"setting", "packagers.oci.registry"}},
        "write host[:port]/namespace, without scheme or credentials (registry.example.org/hpc, "
        "127.0.0.1:5000/slurm); credentials come from `docker login` / `podman login`");
  }
  out.plain_http = plain_http.value_or(loopback(out.host));
  return out;
}

bool token_service_allowed(const std::string& realm, bool plain_http_registry) {
  return realm.rfind("https://", 0) == 0 || (plain_http_registry && realm.rfind("http://", 0) == 0);
}

Challenge parse_challenge(const std::string& header) {
  Challenge c;
  std::size_t i = 0;
  while (i < header.size() && header[i] == ' ') ++i;
  const auto space = header.find(' ', i);
  c.scheme = lower(header.substr(i, space == std::string::npos ? std::string::npos : space - i));
  if (space == std::string::npos) return c;
  static const std::regex kParam(R"re(\s*([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))\s*,?)re");
  const std::string rest = header.substr(space + 1);
  for (std::sregex_iterator it(rest.begin(), rest.end(), kParam), end; it != end; ++it) {
    c.params[lower((*it)[1].str())] = (*it)[2].matched ? (*it)[2].str() : (*it)[3].str();
  }
  return c;
}

RegistryClient::RegistryClient(RegistryLocation location,
                               std::optional<RegistryCredentials> credentials)
    : location_(std::move(location)), credentials_(std::move(credentials)) {
  http::ClientOptions options;
  options.follow_redirects = true;
  if (credentials_) options.secrets = {credentials_->password};
  client_ = std::make_unique<http::HttpClient>(options);
  if (credentials_) client_->options().secrets.push_back(basic_authorization(*credentials_));
}

RegistryClient::~RegistryClient() = default;

std::string RegistryClient::base() const {
  return (location_.plain_http ? "http://" : "https://") + location_.host;
}

std::string RegistryClient::reference(const std::string& repository) const {
  return location_.host + "/" + repository;
}

void RegistryClient::fail(const std::string& what, const std::string& repository,
                          const std::string& object) const {
  throw PackagingError(what,
                       {{"packager", "oci"},
                        {"registry", location_.host},
                        {"repository", repository},
                        {"object", object}},
                       "check packagers.oci.registry, that the registry runs and that this user "
                       "may push there (docker login " +
                           location_.host + ")");
}

http::Response RegistryClient::send(http::Request request, const std::string& repository) {
  const std::string scope = "repository:" + repository + ":pull,push";
  const http::Request original = request;
  auto authorize = [&](http::Request& r) {
    // Never to another host: an upload location may point at the registry's blob store.
    if (r.url.rfind(base() + "/", 0) != 0) return;
    if (auto t = tokens_.find(scope); t != tokens_.end()) {
      r.headers.emplace_back("Authorization", "Bearer " + t->second);
    } else if (!basic_.empty()) {
      r.headers.emplace_back("Authorization", basic_);
    }
  };
  authorize(request);
  auto answer = client_->perform(request);
  if (!answer) fail(answer.error().message, repository, request.method);
  if (answer->status != 401) return *answer;

  const Challenge c = parse_challenge(answer->header("www-authenticate"));
  if (c.scheme == "basic") {
    if (!credentials_) {
      fail("the registry asks for a user name and password, and no auth file has them", repository,
           request.method);
    }
    basic_ = basic_authorization(*credentials_);
  } else if (c.scheme == "bearer" && c.params.count("realm") != 0U) {
    // The credentials go to the token service: in clear text only for a plain-HTTP registry.
    const std::string& realm = c.params.at("realm");
    if (!token_service_allowed(realm, location_.plain_http)) {
      fail("the registry's token service '" + realm + "' is not an https URL", repository,
           request.method);
    }
    std::string url = c.params.at("realm") + "?scope=" + http::uri_encode(scope);
    if (c.params.count("service") != 0U)
      url += "&service=" + http::uri_encode(c.params.at("service"));
    http::Headers headers;
    if (credentials_) headers.emplace_back("Authorization", basic_authorization(*credentials_));
    auto token = client_->get(url, headers);
    if (!token)
      fail("the registry's token service refused: " + token.error().message, repository, url);
    const auto j = nlohmann::json::parse(token->body, nullptr, false);
    std::string value;
    if (j.is_object()) {
      if (j.contains("token") && j["token"].is_string()) value = j["token"].get<std::string>();
      if (value.empty() && j.contains("access_token") && j["access_token"].is_string()) {
        value = j["access_token"].get<std::string>();
      }
    }
    if (value.empty()) fail("the registry's token service gave no token", repository, url);
    client_->options().secrets.push_back(value);
    tokens_[scope] = value;
  } else {
    fail("the registry refused the request (401) with no challenge this client knows", repository,
         request.method);
  }
  http::Request again = original;
  authorize(again);
  auto second = client_->perform(again);
  if (!second) fail(second.error().message, repository, again.method);
  return *second;
}

bool RegistryClient::has_blob(const std::string& repository, const std::string& digest) {
  http::Request r;
  r.method = "HEAD";
  r.url = base() + "/v2/" + repository + "/blobs/" + digest;
  const auto answer = send(r, repository);
  if (answer.status == 200) return true;
  if (answer.status == 404) return false;
  fail("HEAD of the blob answered " + std::to_string(answer.status), repository, digest);
}

std::string RegistryClient::push_blob(const std::string& repository, const std::string& digest,
                                      const std::filesystem::path& file) {
  if (has_blob(repository, digest)) {
    blob_home_.emplace(digest, repository);
    return "present";
  }
  http::Request start;
  start.method = "POST";
  start.send_body = true;
  start.url = base() + "/v2/" + repository + "/blobs/uploads/";
  const auto home = blob_home_.find(digest);
  if (home != blob_home_.end() && home->second != repository) {
    start.url += "?mount=" + http::uri_encode(digest) + "&from=" + http::uri_encode(home->second);
  }
  const auto started = send(start, repository);
  if (started.status == 201) return "mounted";
  if (started.status != 202) {
    fail("starting the upload answered " + std::to_string(started.status) + ": " +
             started.body.substr(0, 300),
         repository, digest);
  }
  std::string location = started.header("location");
  if (location.empty()) fail("the registry gave no upload location", repository, digest);
  if (location.front() == '/') location = base() + location;
  http::Request put;
  put.method = "PUT";
  put.url = location + (location.find('?') == std::string::npos ? "?" : "&") +
            "digest=" + http::uri_encode(digest);
  put.upload_file = file;
  put.headers = {{"Content-Type", "application/octet-stream"}};
  const auto done = send(put, repository);
  if (done.status != 201) {
    fail("uploading the blob answered " + std::to_string(done.status) + ": " +
             done.body.substr(0, 300),
         repository, digest);
  }
  blob_home_[digest] = repository;
  return "uploaded";
}

std::string RegistryClient::put_manifest(const std::string& repository, const std::string& tag,
                                         const std::string& media_type, const std::string& bytes) {
  http::Request put;
  put.method = "PUT";
  put.url = base() + "/v2/" + repository + "/manifests/" + tag;
  put.body = bytes;
  put.send_body = true;
  put.headers = {{"Content-Type", media_type}};
  const auto done = send(put, repository);
  if (done.status != 201) {
    fail("putting the manifest answered " + std::to_string(done.status) + ": " +
             done.body.substr(0, 300),
         repository, tag);
  }
  std::string ours = "sha256:" + sha256_hex(bytes);
  const std::string theirs = done.header("docker-content-digest");
  if (!theirs.empty() && theirs != ours) {
    fail("the registry stored the manifest as " + theirs + ", not " + ours, repository, tag);
  }
  return ours;
}

}  // namespace sf::oci
