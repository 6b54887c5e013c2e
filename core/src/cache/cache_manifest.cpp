#include "cache/cache_manifest.hpp"

#include <algorithm>
#include <ctime>

#include "formats/source_date_epoch.hpp"

namespace sf {

std::string CacheEntryKey::base() const {
  return toolchain + "/" + arch + "/" + name + "-" + version + "-" + hash.substr(0, 12);
}

namespace {

// One part of a key (toolchain, arch, name, version): letters, digits and . _ + ~ -, not starting
// with '.' or '-' (so never "." or ".."), at most 128 characters.
bool safe_part(const std::string& s) {
  if (s.empty() || s.size() > 128 || s.front() == '.' || s.front() == '-') return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '+' || c == '~' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool hex12(const std::string& s) {
  if (s.size() != 12) return false;
  for (const char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::optional<CacheEntryKey> CacheEntryKey::parse(const std::string& key) {
  if (key.size() > 600) return std::nullopt;
  std::string k = key;
  for (const char* suffix : {".manifest.json.asc", ".manifest.json", ".tar.zst"}) {
    const std::string s = suffix;
    if (k.size() > s.size() && k.compare(k.size() - s.size(), s.size(), s) == 0) {
      k.resize(k.size() - s.size());
      break;
    }
  }
  auto s1 = k.find('/');
  if (s1 == std::string::npos) return std::nullopt;
  auto s2 = k.find('/', s1 + 1);
  if (s2 == std::string::npos || k.find('/', s2 + 1) != std::string::npos) return std::nullopt;
  CacheEntryKey out;
  out.toolchain = k.substr(0, s1);
  out.arch = k.substr(s1 + 1, s2 - s1 - 1);
  std::string file = k.substr(s2 + 1);
  auto h = file.rfind('-');
  if (h == std::string::npos || file.size() - h - 1 != 12) return std::nullopt;
  out.hash = file.substr(h + 1);
  file.resize(h);
  auto v = file.rfind('-');
  if (v == std::string::npos || v == 0 || v + 1 == file.size()) return std::nullopt;
  out.name = file.substr(0, v);
  out.version = file.substr(v + 1);
  if (!out.valid()) return std::nullopt;
  return out;
}

bool CacheEntryKey::valid() const {
  return safe_part(toolchain) && safe_part(arch) && safe_part(name) && safe_part(version) &&
         version.find('-') == std::string::npos && hash.size() >= 12 && hex12(hash.substr(0, 12)) &&
         (hash.size() == 12 || hash.size() == 64) &&
         std::all_of(hash.begin(), hash.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string CacheManifest::to_json() const {
  nlohmann::json files_json = nlohmann::json::array();
  for (const auto& f : files) {
    nlohmann::json j{{"path", f.path}, {"type", f.type}, {"mode", f.mode}};
    if (f.type == "file") {
      j["size"] = f.size;
      j["sha256"] = f.sha256;
    }
    if (!f.link_target.empty()) j["target"] = f.link_target;
    files_json.push_back(std::move(j));
  }
  nlohmann::json j{
      {"format", format},
      {"name", name},
      {"version", version},
      {"hash", hash},
      {"toolchain", toolchain},
      {"arch", arch},
      {"toolchain_identity", toolchain_identity},
      {"dependencies", dependencies},
      {"features", features},
      {"arguments", arguments},
      {"files", files_json},
      {"tarball", {{"sha256", tarball_sha256}, {"size", tarball_size}}},
      {"build_time", build_time},
      {"builder_version", builder_version},
      {"signed", is_signed},
      {"unsigned_inputs", unsigned_inputs},
  };
  // nlohmann::json objects are std::map-backed: keys come out sorted.
  return j.dump(2) + "\n";
}

Expected<CacheManifest> CacheManifest::parse(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    CacheManifest m;
    m.format = j.at("format").get<int>();
    if (m.format != kCacheFormatVersion) {
      return Failure::error("manifest format " + std::to_string(m.format) +
                            " is not supported (this build reads format " +
                            std::to_string(kCacheFormatVersion) + "); upgrade slurm-factory");
    }
    m.name = j.at("name").get<std::string>();
    m.version = j.at("version").get<std::string>();
    m.hash = j.at("hash").get<std::string>();
    m.toolchain = j.at("toolchain").get<std::string>();
    m.arch = j.at("arch").get<std::string>();
    m.toolchain_identity = j.value("toolchain_identity", nlohmann::json::object());
    m.dependencies = j.value("dependencies", std::map<std::string, std::string>{});
    m.features = j.value("features", std::vector<std::string>{});
    m.arguments = j.value("arguments", nlohmann::json::object());
    for (const auto& f : j.at("files")) {
      ArchiveEntryInfo e;
      e.path = f.at("path").get<std::string>();
      e.type = f.at("type").get<std::string>();
      e.mode = f.value("mode", 0U);
      e.size = f.value("size", std::uint64_t{0});
      e.sha256 = f.value("sha256", std::string());
      e.link_target = f.value("target", std::string());
      m.files.push_back(std::move(e));
    }
    m.tarball_sha256 = j.at("tarball").at("sha256").get<std::string>();
    m.tarball_size = j.at("tarball").at("size").get<std::uint64_t>();
    m.build_time = j.value("build_time", std::string());
    m.builder_version = j.value("builder_version", std::string());
    m.is_signed = j.value("signed", false);
    m.unsigned_inputs = j.value("unsigned_inputs", false);
    return m;
  } catch (const nlohmann::json::exception& e) {
    return Failure::error(std::string("malformed manifest: ") + e.what());
  }
}

std::string utc_now_rfc3339() { return format_utc(static_cast<std::int64_t>(std::time(nullptr))); }

}  // namespace sf
