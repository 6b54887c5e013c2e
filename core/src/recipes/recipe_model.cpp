#include <algorithm>

#include "recipes/recipe.hpp"

namespace sf {

std::string SourceLocation::str() const {
  std::string s = file.empty() ? "<recipe>" : file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  return s;
}

std::string to_string(BuildSystem b) {
  switch (b) {
    case BuildSystem::kAutotools:
      return "autotools";
    case BuildSystem::kCmake:
      return "cmake";
    case BuildSystem::kMeson:
      return "meson";
    case BuildSystem::kMake:
      return "make";
  }
  return "autotools";
}

std::optional<BuildSystem> parse_build_system(const std::string& s) {
  if (s == "autotools") return BuildSystem::kAutotools;
  if (s == "cmake") return BuildSystem::kCmake;
  if (s == "meson") return BuildSystem::kMeson;
  if (s == "make") return BuildSystem::kMake;
  return std::nullopt;
}

std::string to_string(DependencyType t) {
  switch (t) {
    case DependencyType::kBuild:
      return "build";
    case DependencyType::kLink:
      return "link";
    case DependencyType::kRun:
      return "run";
  }
  return "link";
}

std::optional<DependencyType> parse_dependency_type(const std::string& s) {
  if (s == "build") return DependencyType::kBuild;
  if (s == "link") return DependencyType::kLink;
  if (s == "run") return DependencyType::kRun;
  return std::nullopt;
}

std::string to_string(Origin o) { return o == Origin::kSystem ? "system" : "source"; }

std::optional<Origin> parse_origin(const std::string& s) {
  if (s == "source") return Origin::kSource;
  if (s == "system") return Origin::kSystem;
  return std::nullopt;
}

namespace {
bool any_of_in(const std::vector<std::string>& wanted, const std::vector<std::string>& have) {
  return std::any_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
    return std::find(have.begin(), have.end(), w) != have.end();
  });
}
bool one_of(const std::vector<std::string>& allowed, const std::string& v) {
  return std::find(allowed.begin(), allowed.end(), v) != allowed.end();
}
}  // namespace

bool Condition::empty() const {
  return !slurm && !version && feature.empty() && not_feature.empty() && family.empty() &&
         release.empty() && arch.empty() && system_has.empty();
}

bool Condition::holds(const ConditionContext& ctx) const {
  if (slurm && !slurm->contains(ctx.slurm_version)) return false;
  if (version && !version->contains(ctx.package_version)) return false;
  if (!feature.empty() && !any_of_in(feature, ctx.features)) return false;
  if (!not_feature.empty() && any_of_in(not_feature, ctx.features)) return false;
  if (!family.empty() && !one_of(family, ctx.family)) return false;
  if (!release.empty() && !one_of(release, ctx.release)) return false;
  if (!arch.empty() && !one_of(arch, ctx.arch)) return false;
  for (const auto& s : system_has) {
    if (!one_of(ctx.system_has, s)) return false;
  }
  return true;
}

const RecipeVersion* Recipe::find_version(const std::string& v) const {
  for (const auto& rv : versions) {
    if (rv.version == v) return &rv;
  }
  return nullptr;
}

std::vector<std::string> Recipe::version_names() const {
  std::vector<std::string> names;
  for (const auto& rv : versions) names.push_back(rv.version);
  return names;
}

Origin Recipe::origin_for(const std::string& family, const std::string& release) const {
  if (auto it = from.find(family + "/" + release); it != from.end()) return it->second;
  if (auto it = from.find(family); it != from.end()) return it->second;
  if (auto it = from.find("default"); it != from.end()) return it->second;
  return Origin::kSource;
}

std::string Recipe::system_prefix_for(const std::string& family, const std::string& release) const {
  if (auto it = system_prefix.find(family + "/" + release); it != system_prefix.end()) {
    return it->second;
  }
  if (auto it = system_prefix.find(family); it != system_prefix.end()) return it->second;
  if (auto it = system_prefix.find("default"); it != system_prefix.end()) return it->second;
  return "/usr";
}

std::string Recipe::system_version_for(const std::string& family,
                                       const std::string& release) const {
  for (const auto& key : {family + "/" + release, family, std::string("default")}) {
    if (auto it = system_version.find(key); it != system_version.end()) return it->second;
  }
  return "";
}

}  // namespace sf
