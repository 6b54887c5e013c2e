#include "artifact/published_artifacts.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>
#include <variant>

#include "artifact/artifact_checksums.hpp"
#include "slurm_factory/errors.hpp"
#include "support/file_io.hpp"

namespace sf {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kProvenanceSuffix = ".provenance.json";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string string_at(const nlohmann::json& j, const nlohmann::json::json_pointer& p) {
  if (!j.contains(p)) return "";
  const auto& v = j.at(p);
  return v.is_string() ? v.get<std::string>() : "";
}

// "24.11.5" -> {24, 11, 5}; a non-numeric part compares as its text after the numbers.
std::vector<std::variant<long long, std::string>> version_parts(const std::string& v) {
  std::vector<std::variant<long long, std::string>> out;
  std::string part;
  auto flush = [&] {
    if (part.empty()) return;
    const bool digits = std::all_of(part.begin(), part.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    if (digits && part.size() < 18)
      out.emplace_back(std::stoll(part));
    else
      out.emplace_back(part);
    part.clear();
  };
  for (char c : v) {
    if (c == '.' || c == '-' || c == '_')
      flush();
    else
      part += c;
  }
  flush();
  return out;
}

}  // namespace

PublishedArtifact published_artifact_from_provenance(const nlohmann::json& provenance,
                                                     const std::string& provenance_key) {
  using ptr = nlohmann::json::json_pointer;
  PublishedArtifact a;
  a.provenance_key = provenance_key;
  const auto slash = provenance_key.rfind('/');
  a.directory = slash == std::string::npos ? "" : provenance_key.substr(0, slash);
  const std::string base = provenance_key.substr(slash == std::string::npos ? 0 : slash + 1);
  a.file = string_at(provenance, ptr("/artifact"));
  if (a.file.empty() || a.file.find('/') != std::string::npos)
    a.file = base.substr(0, base.size() - kProvenanceSuffix.size()) + ".tar.zst";
  a.artifact_key = a.directory.empty() ? a.file : a.directory + "/" + a.file;
  a.slurm_version = string_at(provenance, ptr("/slurm_version"));
  if (a.slurm_version.empty())
    a.slurm_version = string_at(provenance, ptr("/plan/request/slurm_version"));
  a.toolchain = string_at(provenance, ptr("/toolchain/name"));
  if (a.toolchain.empty()) a.toolchain = string_at(provenance, ptr("/plan/request/toolchain"));
  a.os_name = string_at(provenance, ptr("/toolchain/os_name"));
  a.arch = string_at(provenance, ptr("/toolchain/arch"));
  a.created = string_at(provenance, ptr("/created"));
  a.signing_key = string_at(provenance, ptr("/signing_key"));
  if (provenance.contains("features") && provenance["features"].is_array()) {
    for (const auto& f : provenance["features"]) {
      if (f.is_string() && f.get<std::string>().rfind("gpu-", 0) == 0)
        a.gpu.push_back(f.get<std::string>().substr(4));
    }
  } else if (provenance.contains(ptr("/plan/request/gpu")) &&
             provenance.at(ptr("/plan/request/gpu")).is_array()) {
    for (const auto& g : provenance.at(ptr("/plan/request/gpu")))
      if (g.is_string()) a.gpu.push_back(g.get<std::string>());
  }
  std::sort(a.gpu.begin(), a.gpu.end());
  if (a.slurm_version.empty() || a.toolchain.empty()) {
    throw VerificationError(
        "the provenance names no " +
            std::string(a.slurm_version.empty() ? "slurm_version" : "toolchain"),
        {{"file", provenance_key}},
        "publish the artifact again with build-slurm --publish (it writes "
        "slurm_version and toolchain.name)");
  }
  return a;
}

void sort_published_artifacts(std::vector<PublishedArtifact>& artifacts) {
  std::sort(artifacts.begin(), artifacts.end(),
            [](const PublishedArtifact& x, const PublishedArtifact& y) {
              const auto vx = version_parts(x.slurm_version);
              const auto vy = version_parts(y.slurm_version);
              if (vx != vy) return vy < vx;  // newest first
              return std::tie(x.toolchain, x.arch, x.artifact_key) <
                     std::tie(y.toolchain, y.arch, y.artifact_key);
            });
}

Expected<PublishedArtifactScan> find_published_artifacts(CacheProvider& layer,
                                                         const fs::path& scratch) {
  auto listed = layer.list("");
  if (!listed) return listed.error();
  std::map<std::string, const CacheObject*> by_key;
  for (const auto& o : *listed) by_key[o.key] = &o;
  auto stored = [&](const std::string& key) { return by_key.count(key) != 0U ? key : ""; };

  PublishedArtifactScan scan;
  std::map<std::string, std::map<std::string, std::string>> sums_by_dir;  // dir -> file -> sha256
  unsigned n = 0;
  for (const auto& [key, object] : by_key) {
    if (!ends_with(key, kProvenanceSuffix)) continue;
    const fs::path local = scratch / ("provenance-" + std::to_string(n++) + ".json");
    if (auto r = layer.get(key, local); !r) {
      scan.warnings.push_back(key + ": cannot download: " + r.error().message);
      continue;
    }
    PublishedArtifact a;
    try {
      a = published_artifact_from_provenance(nlohmann::json::parse(read_file(local)), key);
    } catch (const nlohmann::json::exception& e) {
      scan.warnings.push_back(key + ": not JSON: " + e.what());
      continue;
    } catch (const SlurmFactoryError& e) {
      scan.warnings.push_back(key + ": " + e.what());
      continue;
    }
    const auto art = by_key.find(a.artifact_key);
    if (art == by_key.end()) {
      scan.warnings.push_back(key + ": its artifact " + a.artifact_key + " is not in the layer");
      continue;
    }
    a.size = art->second->size;
    if (a.created.empty()) a.created = "-";
    a.signature_key = stored(a.artifact_key + ".asc");
    const std::string prefix = a.directory.empty() ? "" : a.directory + "/";
    a.checksums_key = stored(prefix + kChecksumsFile);
    a.checksums_signature_key = stored(prefix + kChecksumsSignatureFile);
    if (!a.checksums_key.empty()) {
      auto it = sums_by_dir.find(a.directory);
      if (it == sums_by_dir.end()) {
        std::map<std::string, std::string> sums;
        const fs::path file = scratch / ("SHA256SUMS-" + std::to_string(n++));
        if (auto r = layer.get(a.checksums_key, file); !r) {
          scan.warnings.push_back(a.checksums_key + ": cannot download: " + r.error().message);
        } else {
          try {
            for (const auto& l : parse_sha256sums(read_file(file), a.checksums_key))
              sums[l.file] = l.sha256;
          } catch (const SlurmFactoryError& e) {
            scan.warnings.push_back(a.checksums_key + ": " + e.what());
          }
        }
        it = sums_by_dir.emplace(a.directory, std::move(sums)).first;
      }
      if (auto s = it->second.find(a.file); s != it->second.end()) a.sha256 = s->second;
    }
    if (a.sha256.empty()) {
      scan.warnings.push_back(
          a.artifact_key + ": no sha256 (" +
          (a.checksums_key.empty() ? "no SHA256SUMS beside it" : "SHA256SUMS does not list it") +
          ")");
    }
    scan.artifacts.push_back(std::move(a));
  }
  sort_published_artifacts(scan.artifacts);
  return scan;
}

}  // namespace sf
