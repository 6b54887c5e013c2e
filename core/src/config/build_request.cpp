#include "config/build_request.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "slurm_factory/errors.hpp"
#include "support/host_arch.hpp"
#include "support/input_validation.hpp"
#include "support/strings.hpp"

namespace sf {
namespace {

std::vector<std::string> valid_gpu_flavours() {
  return {std::begin(kGpuFlavours), std::end(kGpuFlavours)};
}

}  // namespace

std::string to_string(PublishPolicy p) {
  switch (p) {
    case PublishPolicy::kNone:
      return "none";
    case PublishPolicy::kCache:
      return "cache";
    case PublishPolicy::kAll:
      return "all";
  }
  return "none";
}

std::vector<std::string> gpu_feature_names(const std::vector<std::string>& flavours) {
  std::vector<std::string> names;
  names.reserve(flavours.size());
  for (const auto& g : flavours) names.push_back("gpu-" + g);
  return names;
}

std::vector<std::string> BuildRequest::feature_names() const { return gpu_feature_names(gpu); }

std::string BuildRequest::artifact_basename(const std::string& resolved_version) const {
  std::string name = "slurm-" + resolved_version + "-" + toolchain;
  if (!gpu.empty()) name += "-" + join(gpu, "-");
  return name + "-" + (arch.empty() ? host_arch() : arch) + (with_dev ? "-dev" : "-software");
}

std::vector<std::string> parse_gpu_flavours(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  const auto valid = valid_gpu_flavours();
  for (const auto& value : values) {
    std::string rest = value.empty() ? "cuda" : value;
    std::size_t start = 0;
    while (start <= rest.size()) {
      std::size_t comma = rest.find(',', start);
      std::string item =
          rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (std::find(valid.begin(), valid.end(), item) == valid.end()) {
        throw UsageError(
            "invalid --gpu value '" + printable(item) + "'", {{"valid values", join(valid, ", ")}},
            "use --gpu cuda, --gpu rocm, --gpu oneapi, or combine them: --gpu cuda,rocm");
      }
      out.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

PublishPolicy parse_publish_policy(const std::string& value) {
  if (value == "none") return PublishPolicy::kNone;
  if (value == "cache") return PublishPolicy::kCache;
  if (value == "all") return PublishPolicy::kAll;
  throw UsageError(
      "invalid --publish value '" + printable(value) + "'", {{"valid values", "none, cache, all"}},
      "none keeps everything local; cache pushes package entries to the writable remote "
      "cache layers; all also uploads the artifact");
}

std::string check_slurm_version_syntax(const std::string& value) {
  static const std::regex kVersion(R"(^[0-9]{2}\.[0-9]{2}(\.[0-9]+)?$)");
  if (!std::regex_match(value, kVersion)) {
    throw UsageError("invalid --slurm-version '" + printable(value) + "'",
                     {{"expected", "a release series like 24.11 or a full version like 24.11.5"}},
                     "try --slurm-version 24.11 (the newest known 24.11 patch release)");
  }
  return value;
}

std::vector<std::string> parse_packagers(const std::vector<std::string>& values,
                                         const std::string& what) {
  std::vector<std::string> out{"tarball"};
  for (const auto& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      const std::size_t comma = std::min(value.find(',', start), value.size());
      const std::string name = value.substr(start, comma - start);
      start = comma + 1;
      if (name.empty()) continue;
      static const std::regex kPackager("^[a-z][a-z0-9_-]{0,39}$");
      if (!std::regex_match(name, kPackager)) {
        throw UsageError("invalid packager '" + printable(name) + "' in " + what,
                         {{"option", what}},
                         "name packagers by lower-case words: tarball, deb (several: "
                         "--packager deb --packager rpm, or deb,rpm)");
      }
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

nlohmann::json BuildRequest::to_json() const {
  const BuildRequest& r = *this;
  nlohmann::json j{{"slurm_version", r.slurm_version},
                   {"toolchain", r.toolchain},
                   {"gpu", r.gpu},
                   {"arch", r.arch.empty() ? std::string("host") : r.arch},
                   {"publish", to_string(r.publish)},
                   {"no_cache", r.no_cache},
                   {"verify", r.verify},
                   {"dry_run", r.dry_run},
                   {"with_dev", r.with_dev},
                   {"packagers", r.packagers}};
  if (!r.backend.empty()) j["backend"] = r.backend;
  if (r.jobs > 0) j["jobs"] = r.jobs;
  if (r.output) j["output"] = r.output->string();
  if (r.local_cache) j["local_cache"] = r.local_cache->string();
  return j;
}

}  // namespace sf
