// Toolchain release data from YAML (families' releases.yaml and site releases of the config).
#include "toolchains/toolchain_release_yaml.hpp"

#include <algorithm>
#include <regex>
#include <set>

#include "config/config_yaml.hpp"
#include "slurm_factory/errors.hpp"
#include "support/input_validation.hpp"
#include "support/strings.hpp"

namespace sf {
namespace {

const std::vector<std::string>& release_keys() {
  static const std::vector<std::string> keys = {
      "os_name",      "os_version",      "gcc_version",      "glibc_version", "base_image",
      "arch",         "package_manager", "build_tools",      "dev_packages",  "gpu_packages",
      "repositories", "quirks",          "system_libraries", "bootstrap",     "cross_arches"};
  return keys;
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

void refuse_unknown_keys(const YAML::Node& map, const std::string& file, const std::string& path,
                         const std::vector<std::string>& allowed, const std::string& what) {
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      throw_release_yaml_error(file, it->first, path, "a key of " + what + " must be a plain name",
                               "use one of: " + join(allowed));
    }
    const auto key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      throw_release_yaml_error(file, it->first, child_path(path, key),
                               "unknown key '" + key + "' in " + what,
                               "use one of: " + join(allowed));
    }
    if (!seen.insert(key).second) {
      throw_release_yaml_error(file, it->first, child_path(path, key),
                               "key '" + key + "' appears twice in " + what, "keep one of them");
    }
  }
}

std::string scalar(const YAML::Node& node, const std::string& file, const std::string& path) {
  if (!node.IsScalar()) {
    throw_release_yaml_error(file, node, path, "'" + path + "' must be a single value",
                             "write it as `key: value`");
  }
  return node.Scalar();
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& file,
                                     const std::string& path) {
  std::vector<std::string> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) {
    throw_release_yaml_error(file, node, path, "'" + path + "' must be a list of names",
                             "write it as `[a, b]` or one `- item` per line");
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    out.push_back(scalar(node[i], file, path + "[" + std::to_string(i) + "]"));
  }
  return out;
}

// name -> [packages]; a single value is a one-element list, null an empty one.
void merge_package_map(std::map<std::string, std::vector<std::string>>& into,
                       const YAML::Node& node, const std::string& file, const std::string& path) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    throw_release_yaml_error(file, node, path,
                             "'" + path + "' must map logical names to package lists",
                             "write it as `compiler: [gcc, g++]`, one name per line");
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const auto key = scalar(it->first, file, path);
    const auto value_path = child_path(path, key);
    if (it->second.IsScalar()) {
      into[key] = {it->second.Scalar()};
    } else {
      into[key] = string_list(it->second, file, value_path);
    }
  }
}

PackageRepository parse_repository(const YAML::Node& node, const std::string& file,
                                   const std::string& path) {
  if (!node.IsMap()) {
    throw_release_yaml_error(file, node, path, "a repository must be a mapping",
                             "write it as `{name: epel, method: dnf-package, packages: [...]}`");
  }
  refuse_unknown_keys(node, file, path, {"name", "method", "packages", "url", "needed_by"},
                      "a repository");
  PackageRepository repo;
  if (!node["name"]) {
    throw_release_yaml_error(file, node, path, "a repository needs a name", "add `name: ...`");
  }
  repo.name = scalar(node["name"], file, child_path(path, "name"));
  static const std::vector<std::string> methods = {"dnf-package", "dnf-config-manager",
                                                   "dnf-repo-file", "apt-component"};
  if (!node["method"]) {
    throw_release_yaml_error(file, node, path, "repository '" + repo.name + "' needs a method",
                             "add `method:` one of " + join(methods));
  }
  repo.method = scalar(node["method"], file, child_path(path, "method"));
  if (std::find(methods.begin(), methods.end(), repo.method) == methods.end()) {
    throw_release_yaml_error(file, node["method"], child_path(path, "method"),
                             "unknown repository method '" + repo.method + "'",
                             "use one of: " + join(methods));
  }
  if (node["packages"])
    repo.packages = string_list(node["packages"], file, child_path(path, "packages"));
  if (node["url"]) repo.url = scalar(node["url"], file, child_path(path, "url"));
  if (node["needed_by"]) {
    repo.needed_by = string_list(node["needed_by"], file, child_path(path, "needed_by"));
  }
  if (repo.method == "dnf-package" && repo.packages.empty()) {
    throw_release_yaml_error(file, node, path,
                             "repository '" + repo.name + "' (dnf-package) names no packages",
                             "add `packages: [epel-release]` (the packages that provide it)");
  }
  if (repo.method == "dnf-repo-file" && repo.url.empty()) {
    throw_release_yaml_error(file, node, path,
                             "repository '" + repo.name + "' (dnf-repo-file) has no url",
                             "add `url: https://.../name.repo`");
  }
  return repo;
}

BootstrapRecipe parse_bootstrap(const YAML::Node& node, const std::string& file,
                                const std::string& path) {
  if (!node.IsMap()) {
    throw_release_yaml_error(file, node, path, "'bootstrap' must be a mapping",
                             "write it as `{tool: mmdebstrap, suite: bookworm, mirror: ...}`");
  }
  refuse_unknown_keys(node, file, path,
                      {"tool", "variant", "suite", "mirror", "components", "extra_packages"},
                      "a bootstrap recipe");
  BootstrapRecipe b;
  for (const char* required : {"tool", "suite", "mirror"}) {
    if (!node[required]) {
      throw_release_yaml_error(file, node, path,
                               std::string("the bootstrap recipe needs '") + required + "'",
                               std::string("add `") + required + ": ...`");
    }
  }
  b.tool = scalar(node["tool"], file, child_path(path, "tool"));
  if (b.tool != "mmdebstrap" && b.tool != "debootstrap") {
    throw_release_yaml_error(file, node["tool"], child_path(path, "tool"),
                             "unknown bootstrap tool '" + b.tool + "'",
                             "use mmdebstrap (falls back to debootstrap) or debootstrap");
  }
  if (node["variant"]) b.variant = scalar(node["variant"], file, child_path(path, "variant"));
  b.suite = scalar(node["suite"], file, child_path(path, "suite"));
  b.mirror = scalar(node["mirror"], file, child_path(path, "mirror"));
  if (node["components"]) {
    b.components = string_list(node["components"], file, child_path(path, "components"));
  }
  if (b.components.empty()) b.components = {"main"};
  if (node["extra_packages"]) {
    b.extra_packages =
        string_list(node["extra_packages"], file, child_path(path, "extra_packages"));
  }
  return b;
}

YAML::Node load(std::string_view text, const std::string& origin) {
  try {
    return config::load_bounded(text, origin);
  } catch (const YAML::ParserException& e) {
    throw ConfigurationError(origin + ":" + std::to_string(e.mark.line + 1) + ":" +
                                 std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg,
                             {{"file", origin}}, "fix the YAML syntax at that line");
  }
}

}  // namespace

std::string yaml_location(const std::string& file, const YAML::Node& node) {
  const auto mark = node.Mark();
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

void throw_release_yaml_error(const std::string& file, const YAML::Node& node,
                              const std::string& key_path, const std::string& what,
                              const std::string& remediation) {
  ErrorContext ctx{{"location", yaml_location(file, node)}};
  if (!key_path.empty()) ctx.emplace_back("key", key_path);
  throw ConfigurationError(yaml_location(file, node) + ": " + what, std::move(ctx), remediation);
}

void apply_toolchain_release_yaml(ToolchainRelease& r, const YAML::Node& node,
                                  const std::string& file, const std::string& path,
                                  const std::vector<std::string>& also_allowed) {
  if (!node.IsMap()) {
    throw_release_yaml_error(file, node, path, "a toolchain release must be a mapping of keys",
                             "write `name:` followed by indented keys: " + join(release_keys()));
  }
  auto allowed = release_keys();
  allowed.insert(allowed.end(), also_allowed.begin(), also_allowed.end());
  refuse_unknown_keys(node, file, path, allowed, "a toolchain release");

  auto text = [&](const char* key, std::string& field) {
    if (node[key]) field = scalar(node[key], file, child_path(path, key));
  };
  text("os_name", r.os_name);
  text("os_version", r.os_version);
  text("gcc_version", r.gcc_version);
  text("glibc_version", r.glibc_version);
  text("base_image", r.base_image);
  text("arch", r.arch);
  if (node["arch"]) {
    if (const std::string p = input_problem(InputKind::kArch, r.arch); !p.empty()) {
      throw_release_yaml_error(file, node["arch"], child_path(path, "arch"),
                               "arch '" + printable(r.arch) + "' is not valid: " + p,
                               "write " + describe(InputKind::kArch));
    }
  }
  if (node["cross_arches"]) {
    r.cross_arches = string_list(node["cross_arches"], file, child_path(path, "cross_arches"));
    for (const auto& a : r.cross_arches) {
      if (const std::string p = input_problem(InputKind::kArch, a); !p.empty()) {
        throw_release_yaml_error(file, node["cross_arches"], child_path(path, "cross_arches"),
                                 "arch '" + printable(a) + "' is not valid: " + p,
                                 "write " + describe(InputKind::kArch));
      }
    }
  }
  for (const char* key : {"os_name", "os_version", "base_image"}) {
    const YAML::Node v = node[key];
    if (!v || !v.IsScalar()) continue;
    const std::string& value = v.Scalar();
    for (char c : value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        throw_release_yaml_error(
            file, v, child_path(path, key),
            std::string(key) + " '" + printable(value) + "' holds a control character",
            "write it on one line, without control characters");
      }
    }
  }
  if (node["package_manager"]) {
    const auto pm = scalar(node["package_manager"], file, child_path(path, "package_manager"));
    if (pm == "apt") {
      r.package_manager = PackageManager::kApt;
    } else if (pm == "dnf") {
      r.package_manager = PackageManager::kDnf;
    } else {
      throw_release_yaml_error(file, node["package_manager"], child_path(path, "package_manager"),
                               "unknown package manager '" + pm + "'", "use apt or dnf");
    }
  }
  if (node["build_tools"]) {
    merge_package_map(r.build_tools, node["build_tools"], file, child_path(path, "build_tools"));
  }
  if (node["dev_packages"]) {
    merge_package_map(r.dev_packages, node["dev_packages"], file, child_path(path, "dev_packages"));
  }
  if (node["gpu_packages"]) {
    merge_package_map(r.gpu_packages, node["gpu_packages"], file, child_path(path, "gpu_packages"));
  }
  if (const auto repos = node["repositories"]; repos) {
    const auto repos_path = child_path(path, "repositories");
    if (!repos.IsNull() && !repos.IsSequence()) {
      throw_release_yaml_error(file, repos, repos_path, "'repositories' must be a list",
                               "write one `- {name: ..., method: ...}` per repository");
    }
    r.repositories.clear();
    for (std::size_t i = 0; repos.IsSequence() && i < repos.size(); ++i) {
      r.repositories.push_back(
          parse_repository(repos[i], file, repos_path + "[" + std::to_string(i) + "]"));
    }
  }
  if (node["quirks"]) r.quirks = string_list(node["quirks"], file, child_path(path, "quirks"));
  if (node["system_libraries"]) {
    r.system_libraries =
        string_list(node["system_libraries"], file, child_path(path, "system_libraries"));
  }
  if (const auto b = node["bootstrap"]; b) {
    if (b.IsNull()) {
      r.bootstrap.reset();
    } else {
      r.bootstrap = parse_bootstrap(b, file, child_path(path, "bootstrap"));
    }
  }
}

void require_complete_release(const ToolchainRelease& r, const YAML::Node& node,
                              const std::string& file, const std::string& path) {
  static const std::regex name_re("[a-z0-9][a-z0-9._-]*");
  if (!std::regex_match(r.name, name_re)) {
    throw_release_yaml_error(file, node, path,
                             "toolchain release name '" + r.name + "' is not a valid name",
                             "use lower-case letters, digits, '.', '_' and '-' (it becomes part "
                             "of an image tag)");
  }
  auto need = [&](const std::string& value, const char* key, const char* example) {
    if (value.empty()) {
      throw_release_yaml_error(file, node, path, "toolchain release '" + r.name + "' has no " + key,
                               std::string("add `") + key + ": " + example + "`");
    }
  };
  need(r.os_name, "os_name", "Debian GNU/Linux 12 (bookworm)");
  need(r.gcc_version, "gcc_version", "\"12.2\"");
  need(r.glibc_version, "glibc_version", "\"2.36\"");
  static const std::regex version_re("[0-9]+(\\.[0-9]+)*");
  for (const auto& [value, key] :
       {std::pair{r.gcc_version, "gcc_version"}, std::pair{r.glibc_version, "glibc_version"}}) {
    if (!std::regex_match(value, version_re)) {
      throw_release_yaml_error(file, node[key] ? node[key] : node, child_path(path, key),
                               std::string(key) + " '" + value + "' is not a version number",
                               "write it as major.minor in quotes, e.g. \"13.3\"");
    }
  }
  if (r.base_image.empty() && !r.bootstrap) {
    throw_release_yaml_error(
        file, node, path, "toolchain release '" + r.name + "' has neither base_image nor bootstrap",
        "add `base_image: registry/image:tag`");
  }
  if (auto c = r.build_tools.find("compiler"); c == r.build_tools.end() || c->second.empty()) {
    throw_release_yaml_error(file, node, path,
                             "toolchain release '" + r.name + "' lists no compiler package",
                             "add `build_tools: {compiler: [gcc, g++]}` (or set it in defaults)");
  }
}

ToolchainReleaseFile parse_toolchain_release_file(std::string_view yaml_text,
                                                  const std::string& origin) {
  const YAML::Node root = load(yaml_text, origin);
  if (!root.IsMap()) {
    throw_release_yaml_error(origin, root, "", "a releases file must be a mapping",
                             "start it with `family: NAME` and `releases:`");
  }
  refuse_unknown_keys(root, origin, "", {"family", "defaults", "releases"}, "a releases file");
  ToolchainReleaseFile out;
  if (!root["family"]) {
    throw_release_yaml_error(origin, root, "family", "the releases file names no family",
                             "add `family: NAME` at the top");
  }
  out.family = scalar(root["family"], origin, "family");
  out.defaults.family = out.family;
  if (const auto d = root["defaults"]; d && !d.IsNull()) {
    apply_toolchain_release_yaml(out.defaults, d, origin, "defaults");
  }
  const auto releases = root["releases"];
  if (!releases || !releases.IsMap() || releases.size() == 0) {
    throw_release_yaml_error(origin, releases ? releases : root, "releases",
                             "the releases file defines no releases",
                             "add `releases:` with one mapping per release");
  }
  std::set<std::string> seen;
  for (auto it = releases.begin(); it != releases.end(); ++it) {
    ToolchainRelease r = out.defaults;
    r.name = scalar(it->first, origin, "releases");
    const auto path = "releases." + r.name;
    if (!seen.insert(r.name).second) {
      throw_release_yaml_error(origin, it->first, path, "release '" + r.name + "' is defined twice",
                               "keep one definition");
    }
    apply_toolchain_release_yaml(r, it->second, origin, path);
    require_complete_release(r, it->second, origin, path);
    r.origin = yaml_location(origin, it->first);
    out.releases.push_back(std::move(r));
  }
  return out;
}

std::vector<ToolchainRelease> parse_toolchain_releases(std::string_view yaml_text,
                                                       const std::string& origin) {
  return parse_toolchain_release_file(yaml_text, origin).releases;
}

}  // namespace sf
