#include "config/config_render.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "config/config_yaml.hpp"

namespace sf::config {
namespace {

// True when a query parameter named `name` carries a secret (presigned S3 URLs, tokens, keys).
bool is_secret_param(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (const char* word : {"signature", "credential", "token", "password", "passwd", "secret",
                           "key", "auth", "sig", "session"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

// `s` with the value of every secret query parameter (after '?', up to '#') replaced.
std::string redact_query(const std::string& s) {
  const auto q = s.find('?');
  if (q == std::string::npos) return s;
  const auto hash = s.find('#', q);
  const std::string query =
      s.substr(q + 1, hash == std::string::npos ? std::string::npos : hash - q - 1);
  std::string out = s.substr(0, q + 1);
  std::size_t start = 0;
  while (start <= query.size()) {
    auto end = query.find_first_of("&;", start);
    if (end == std::string::npos) end = query.size();
    const std::string param = query.substr(start, end - start);
    const auto eq = param.find('=');
    if (eq != std::string::npos && is_secret_param(param.substr(0, eq))) {
      out += param.substr(0, eq + 1) + "***";
    } else {
      out += param;
    }
    if (end < query.size()) out += query[end];
    start = end + 1;
  }
  if (hash != std::string::npos) out += s.substr(hash);
  return out;
}

nlohmann::json redact(const nlohmann::json& value) {
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : value.items()) {
      out[k] = is_secret_key(k) && !v.is_null() ? nlohmann::json(kRedacted) : redact(v);
    }
    return out;
  }
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : value) out.push_back(redact(v));
    return out;
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (looks_like_private_key(s)) return kRedacted;
    std::string shown = url_has_password(s) ? redact_url(s) : s;
    shown = redact_query(shown);
    if (shown != s) return shown;
  }
  return value;
}

nlohmann::json strings(const std::vector<std::filesystem::path>& paths) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : paths) out.push_back(p.string());
  return out;
}

void flatten_into(const nlohmann::json& value, const std::string& path,
                  std::vector<std::pair<std::string, nlohmann::json>>& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [k, v] : value.items()) flatten_into(v, join_key(path, k), out);
  } else if (value.is_array() && !value.empty()) {
    std::size_t i = 0;
    for (const auto& v : value) flatten_into(v, join_index(path, i++), out);
  } else {
    out.emplace_back(path, value);
  }
}

}  // namespace

nlohmann::json config_values(const Config& c) {
  nlohmann::json v = nlohmann::json::object();
  v["cache_dir"] = c.cache_dir.string();
  v["plugins"] = {{"search_paths", strings(c.plugin_search_paths)}, {"load", c.plugins}};
  v["backend"] = c.default_backend;
  v["backends"] = c.backends;
  v["packagers"] = c.packagers;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : c.cache_layers) {
    layers.push_back({{"name", l.name},
                      {"type", l.type},
                      {"url", l.url},
                      {"writable", l.writable},
                      {"settings", l.settings}});
  }
  v["cache"] = {{"layers", layers}};
  const auto& s = c.signing;
  v["signing"] = {{"key_id", s.key_id},
                  {"keyring", s.keyring},
                  {"trusted_fingerprints", s.trusted_fingerprints},
                  {"private_key_file", s.private_key_file},
                  {"private_key_env", s.private_key_env},
                  {"passphrase_file", s.passphrase_file},
                  {"passphrase_env", s.passphrase_env},
                  {"require_signed", s.require_signed},
                  {"allow_unsigned", s.allow_unsigned}};
  const auto& b = c.build;
  v["build"] = {{"jobs", b.jobs}, {"cpus", b.cpus}, {"memory", b.memory},
                {"shm", b.shm},   {"pids", b.pids}, {"network", b.network}};
  nlohmann::json toolchains = nlohmann::json::object();
  for (const auto& t : c.toolchains) toolchains[t.name] = yaml_to_json(t.definition);
  v["toolchains"] = toolchains;
  nlohmann::json families = nlohmann::json::object();
  for (const auto& [name, f] : c.toolchain_families) families[name] = {{"mirror", f.mirror}};
  v["toolchain_families"] = families;
  v["pipelines"] = c.pipelines;
  return redact(v);
}

std::vector<std::pair<std::string, nlohmann::json>> flatten(const nlohmann::json& values) {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  flatten_into(values, "", out);
  return out;
}

nlohmann::json render_config_json(const Config& c) {
  const nlohmann::json values = config_values(c);
  nlohmann::json origins = nlohmann::json::object();
  for (const auto& [path, value] : flatten(values)) {
    const std::string o = c.origin_of(path);
    origins[path] = o.empty() ? "default" : o;
  }
  return {{"profile", c.profile.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.profile)},
          {"profiles", c.available_profiles},
          {"values", values},
          {"origins", origins}};
}

std::string render_config_text(const Config& c) {
  const nlohmann::json values = config_values(c);
  std::vector<std::pair<std::string, std::string>> lines;
  std::size_t width = 0;
  for (const auto& [path, value] : flatten(values)) {
    std::string shown = value.dump();
    if (value.is_string() && !value.get_ref<const std::string&>().empty())
      shown = value.get<std::string>();
    std::string line = path + " = " + shown;
    width = std::max(width, line.size());
    const std::string o = c.origin_of(path);
    lines.emplace_back(std::move(line), o.empty() ? "default" : o);
  }
  width = std::min<std::size_t>(width, 60);
  std::ostringstream out;
  out << "# slurm-factory configuration";
  if (!c.profile.empty())
    out << " (profile " << c.profile << ", selected by " << c.origin_of("profile") << ")";
  out << "\n";
  if (!c.available_profiles.empty()) {
    out << "# profiles defined:";
    for (const auto& p : c.available_profiles) out << " " << p;
    out << "\n";
  }
  for (const auto& [line, origin] : lines) {
    out << line;
    for (std::size_t n = line.size(); n < width; ++n) out << ' ';
    out << "  # " << origin << "\n";
  }
  return out.str();
}

}  // namespace sf::config
