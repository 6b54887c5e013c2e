#include "recipes/recipe_parser.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <regex>
#include <set>
#include <stdexcept>

#include "config/config_yaml.hpp"
#include "recipes/recipe_error.hpp"
#include "recipes/recipe_node_reader.hpp"
#include "slurm_factory/errors.hpp"
#include "support/input_validation.hpp"
#include "support/strings.hpp"

namespace sf {

namespace {

const std::regex& shell_name() {
  static const std::regex kShell("^[a-z][a-z0-9]{0,15}$");
  return kShell;
}

class Parser : public RecipeNodeReader {
 public:
  using RecipeNodeReader::RecipeNodeReader;

  RecipeVersion version(const YAML::Node& n) const {
    check_keys(n, {"version", "sha256", "file", "strip_dir", "mirrors", "make_shell"},
               "a version entry");
    RecipeVersion v;
    v.where = at(n);
    if (!n["version"]) fail(n, "a version entry needs 'version'");
    v.version = checked(n["version"], InputKind::kPackageVersion, scalar(n["version"], "version"),
                        "version");
    try {
      (void)Version::parse(v.version);
    } catch (const std::invalid_argument& e) {
      fail(n["version"], e.what());
    }
    if (!n["sha256"]) fail(n, "version " + v.version + " needs 'sha256' (sources are pinned)");
    v.sha256 = sha256(n["sha256"]);
    if (!n["mirrors"]) fail(n, "version " + v.version + " needs 'mirrors' (at least one URL)");
    v.mirrors = scalar_list(n["mirrors"], "mirrors");
    if (v.mirrors.empty()) fail(n["mirrors"], "version " + v.version + " lists no mirrors");
    for (size_t i = 0; i < v.mirrors.size(); ++i) {
      const auto& url = v.mirrors[i];
      if (url.find("://") == std::string::npos) {
        fail(n["mirrors"].IsSequence() ? n["mirrors"][i] : n["mirrors"],
             "mirror '" + url + "' is not a URL (https://, http:// or file://)");
      }
    }
    if (n["file"]) {
      v.filename = scalar(n["file"], "file");
    } else {
      const auto& url = v.mirrors.front();
      v.filename = url.substr(url.find_last_of('/') + 1);
    }
    if (!input_problem(InputKind::kPathComponent, v.filename).empty()) {
      fail(n, "version " + v.version + ": bad archive file name '" + v.filename + "'",
           "set 'file:' to the archive's plain file name");
    }
    if (n["strip_dir"]) {
      v.strip_dir = checked(n["strip_dir"], InputKind::kPathComponent,
                            scalar(n["strip_dir"], "strip_dir"), "strip_dir");
    }
    if (n["make_shell"]) {
      // This version's make shell instead of the recipe's: "" keeps configure's own (a release
      // whose Makefiles need bash).
      v.make_shell = scalar(n["make_shell"], "make_shell");
      if (!v.make_shell->empty() && !std::regex_match(*v.make_shell, shell_name())) {
        fail(n["make_shell"], "make_shell '" + *v.make_shell + "' is not a shell's name",
             "write the name of a POSIX shell in the image's /bin, such as dash, or \"\"");
      }
    }
    return v;
  }

  Dependency dependency(const YAML::Node& n) const {
    Dependency d;
    d.where = at(n);
    if (n.IsScalar()) {
      d.name = checked(n, InputKind::kPackageName, n.as<std::string>(), "dependency name");
      d.types = {DependencyType::kLink};
      return d;
    }
    check_keys(n, {"name", "type", "when"}, "a dependency");
    if (!n["name"]) fail(n, "a dependency needs 'name'");
    d.name =
        checked(n["name"], InputKind::kPackageName, scalar(n["name"], "name"), "dependency name");
    if (n["type"]) {
      for (const auto& t : scalar_list(n["type"], "type")) {
        auto parsed = parse_dependency_type(t);
        if (!parsed)
          fail(n["type"], "unknown dependency type '" + t + "'", "types: build, link, run");
        d.types.push_back(*parsed);
      }
    }
    if (d.types.empty()) d.types = {DependencyType::kLink};
    if (n["when"]) d.when = condition(n["when"]);
    return d;
  }

  Patch patch(const YAML::Node& n) const {
    check_keys(n, {"file", "sha256", "strip", "relocates", "when"}, "a patch");
    Patch p;
    p.where = at(n);
    if (!n["file"]) fail(n, "a patch needs 'file'");
    // Relative to the recipe's folder, and inside it: every component a plain name.
    p.file =
        relative_path(n["file"], scalar(n["file"], "file"), "patch file",
                      "name the patch relative to the recipe's folder, e.g. patches/fix.patch");
    if (n["relocates"]) {
      for (const auto& r : scalar_list(n["relocates"], "relocates")) {
        p.relocates.push_back(relative_path(
            n["relocates"], r, "relocated path",
            "name the compiled-in path relative to the build prefix, e.g. lib/slurm"));
      }
    }
    if (!n["sha256"]) fail(n, "patch " + p.file + " needs 'sha256' (patches are pinned)");
    p.sha256 = sha256(n["sha256"]);
    if (n["strip"]) {
      try {
        p.strip = n["strip"].as<int>();
      } catch (const YAML::Exception&) {
        fail(n["strip"], "strip must be a small integer");
      }
    }
    if (n["when"]) p.when = condition(n["when"]);
    return p;
  }

  // {plugin: TYPE/NAME, file: PATH (default lib/slurm/TYPE_NAME.so), provided_by: NAME, when}
  ExpectedPlugin expected(const YAML::Node& n) const {
    check_keys(n, {"plugin", "file", "provided_by", "when"}, "an expected_plugins entry");
    ExpectedPlugin e;
    e.where = at(n);
    if (!n["plugin"])
      fail(n, "an expected_plugins entry needs 'plugin' (e.g. acct_gather_energy/ipmi)");
    e.plugin = scalar(n["plugin"], "plugin");
    static const std::regex kPlugin("^[a-z0-9_]+/[a-z0-9_]+$");
    if (n["file"]) {
      e.file = scalar(n["file"], "file");
    } else if (std::regex_match(e.plugin, kPlugin)) {
      e.file = "lib/slurm/" + e.plugin.substr(0, e.plugin.find('/')) + "_" +
               e.plugin.substr(e.plugin.find('/') + 1) + ".so";
    } else {
      fail(n["plugin"], "plugin '" + printable(e.plugin) + "' is not TYPE/NAME",
           "write it as Slurm names it (acct_gather_energy/ipmi) or give 'file:'");
    }
    bool file_ok = !e.file.empty() && e.file.front() != '/';
    for (std::size_t start = 0; file_ok && start <= e.file.size();) {
      const std::size_t slash = std::min(e.file.find('/', start), e.file.size());
      file_ok =
          input_problem(InputKind::kPathComponent, e.file.substr(start, slash - start)).empty();
      start = slash + 1;
    }
    if (!file_ok) {
      fail(n["file"] ? n["file"] : n, "bad expected file '" + printable(e.file) + "'",
           "name it relative to the view, e.g. lib/slurm/acct_gather_energy_ipmi.so");
    }
    if (n["provided_by"]) {
      e.provided_by = checked(n["provided_by"], InputKind::kPackageName,
                              scalar(n["provided_by"], "provided_by"), "provided_by");
    }
    if (n["when"]) e.when = condition(n["when"]);
    return e;
  }

  Recipe recipe(const YAML::Node& root) const {
    if (!root.IsMap()) fail(root, "a recipe must be a YAML mapping");
    // clang-format off
    static const std::set<std::string> kKeys{
        "name", "description", "homepage", "license", "build_system", "default_version",
        "system_package", "from", "versions", "dependencies", "system_dependencies", "configure",
        "build", "install", "env", "patches", "system_prefix", "autoreconf", "configure_command",
        "runtime_dlopen", "public_programs", "system_version", "version_constraints",
        "extra_install", "expected_plugins", "incremental", "make_shell"};
    // clang-format on
    check_keys(root, kKeys, "a recipe");
    Recipe r;
    r.where = SourceLocation{origin(), 1, 1};
    if (!root["name"]) fail(root, "a recipe needs 'name'");
    r.name = scalar(root["name"], "name");
    if (const std::string p = input_problem(InputKind::kPackageName, r.name); !p.empty()) {
      fail(root["name"], "bad recipe name '" + printable(r.name) + "': " + p +
                             " (lowercase letters, digits, . _ + -)");
    }
    if (root["description"]) r.description = scalar(root["description"], "description");
    if (root["homepage"]) r.homepage = scalar(root["homepage"], "homepage");
    if (root["license"]) r.license = scalar(root["license"], "license");
    if (root["build_system"]) {
      auto s = scalar(root["build_system"], "build_system");
      auto b = parse_build_system(s);
      if (!b)
        fail(root["build_system"], "unknown build_system '" + s + "'",
             "build systems: autotools, cmake, meson, make");
      r.build_system = *b;
    }
    if (!root["versions"] || !root["versions"].IsSequence() || root["versions"].size() == 0) {
      fail(root["versions"] ? root["versions"] : root,
           "a recipe needs a non-empty 'versions' list");
    }
    for (const auto& v : root["versions"]) {
      auto rv = version(v);
      if (r.find_version(rv.version) != nullptr) {
        fail(v, "version " + rv.version + " is listed twice");
      }
      r.versions.push_back(std::move(rv));
    }
    if (root["default_version"]) {
      r.default_version = scalar(root["default_version"], "default_version");
      if (r.find_version(r.default_version) == nullptr) {
        fail(root["default_version"],
             "default_version " + r.default_version + " is not among the recipe's versions");
      }
    }
    if (root["system_package"]) {
      r.system_package =
          checked(root["system_package"], InputKind::kPackageName,
                  scalar(root["system_package"], "system_package"), "system_package");
    }
    if (root["from"]) {
      const auto& f = root["from"];
      auto origin = [&](const YAML::Node& n) {
        auto s = scalar(n, "from");
        auto o = parse_origin(s);
        if (!o) fail(n, "unknown origin '" + s + "'", "origins: source, system");
        return *o;
      };
      if (f.IsScalar()) {
        r.from["default"] = origin(f);
      } else if (f.IsMap()) {
        for (const auto& kv : f) r.from[kv.first.as<std::string>()] = origin(kv.second);
      } else {
        fail(f, "'from' must be source, system, or a mapping of toolchain family to either");
      }
      bool any_system = std::any_of(r.from.begin(), r.from.end(),
                                    [](const auto& kv) { return kv.second == Origin::kSystem; });
      if (any_system && r.system_package.empty()) {
        fail(f, "'from: system' needs 'system_package' (the release's dev_packages name)");
      }
    }
    if (root["system_prefix"]) {
      const auto& sp = root["system_prefix"];
      if (sp.IsScalar()) {
        check_variables(sp, sp.as<std::string>());
        r.system_prefix["default"] = sp.as<std::string>();
      } else if (sp.IsMap()) {
        for (const auto& kv : sp) {
          auto v = scalar(kv.second, "system_prefix");
          check_variables(kv.second, v);
          r.system_prefix[kv.first.as<std::string>()] = v;
        }
      } else {
        fail(sp, "'system_prefix' must be a path or a mapping of toolchain family to path");
      }
    }
    if (root["system_version"]) {
      const auto& sv = root["system_version"];
      if (!sv.IsMap()) {
        fail(sv,
             "'system_version' must be a mapping of toolchain (family or family/release) to "
             "the version its -dev package ships");
      }
      for (const auto& kv : sv) {
        const auto v = scalar(kv.second, "system_version");
        try {
          (void)Version::parse(v);
        } catch (const std::invalid_argument& e) {
          fail(kv.second, "bad system_version '" + v + "': " + e.what());
        }
        r.system_version[kv.first.as<std::string>()] = v;
      }
    }
    if (root["version_constraints"]) {
      const auto& vc = root["version_constraints"];
      if (!vc.IsSequence()) fail(vc, "version_constraints must be a list");
      for (const auto& n : vc) {
        check_keys(n, {"versions", "when", "why"}, "a version constraint");
        if (!n["versions"]) fail(n, "a version constraint needs 'versions' (a version range)");
        VersionConstraint c;
        c.where = at(n);
        c.versions = range(n["versions"], "versions");
        if (n["when"]) c.when = condition(n["when"]);
        if (n["why"]) c.why = scalar(n["why"], "why");
        r.version_constraints.push_back(std::move(c));
      }
    }
    if (root["autoreconf"]) {
      try {
        r.autoreconf = root["autoreconf"].as<bool>();
      } catch (const YAML::Exception&) {
        fail(root["autoreconf"], "autoreconf must be true or false");
      }
    }
    if (root["incremental"]) {
      try {
        r.incremental = root["incremental"].as<bool>();
      } catch (const YAML::Exception&) {
        fail(root["incremental"], "incremental must be true or false");
      }
    }
    if (root["make_shell"]) {
      r.make_shell = scalar(root["make_shell"], "make_shell");
      if (!std::regex_match(r.make_shell, shell_name())) {
        fail(root["make_shell"], "make_shell '" + r.make_shell + "' is not a shell's name",
             "write the name of a POSIX shell in the image's /bin, such as dash");
      }
    }
    if (root["runtime_dlopen"]) {
      static const std::regex kSoname("^[A-Za-z0-9._+-]+\\.so[A-Za-z0-9._+-]*$");
      r.runtime_dlopen = scalar_list(root["runtime_dlopen"], "runtime_dlopen");
      for (const auto& so : r.runtime_dlopen) {
        if (!std::regex_match(so, kSoname)) {
          fail(root["runtime_dlopen"], "runtime_dlopen entry '" + so + "' is not a soname",
               "write sonames such as libpmix.so.2 (a file name, no '/')");
        }
      }
    }
    if (root["public_programs"]) {
      const auto& pp = root["public_programs"];
      static const std::regex kProgram(R"(^[A-Za-z0-9._+*?\[\]-]+$)");
      if (pp.IsScalar()) {
        const std::string v = pp.as<std::string>();
        if (v == "all") {
          r.public_programs = std::vector<std::string>{"*"};
        } else if (v == "none") {
          r.public_programs = std::vector<std::string>{};
        } else {
          fail(pp, "public_programs '" + printable(v) + "' is not all, none or a list",
               "write public_programs: all, public_programs: none, or a list of program names "
               "(globs allowed): [munge, unmunge]");
        }
      } else {
        const auto names = scalar_list(pp, "public_programs");
        for (std::size_t i = 0; i < names.size(); ++i) {
          if (!std::regex_match(names[i], kProgram)) {
            fail(pp.IsSequence() ? pp[i] : pp,
                 "public_programs entry '" + printable(names[i]) + "' is not a program name",
                 "write file names of bin/ or sbin/ (globs allowed, no '/'): munge, hwloc-*");
          }
        }
        r.public_programs = names;
      }
    }
    if (root["configure_command"]) {
      r.configure_command = scalar(root["configure_command"], "configure_command");
    }
    if (root["dependencies"]) {
      if (!root["dependencies"].IsSequence())
        fail(root["dependencies"], "dependencies must be a list");
      for (const auto& d : root["dependencies"]) {
        auto dep = dependency(d);
        if (dep.name == r.name)
          fail(d, "recipe " + r.name + " depends on itself (dependency cycle)");
        r.dependencies.push_back(std::move(dep));
      }
    }
    if (root["system_dependencies"]) {
      r.system_dependencies =
          conditional_strings(root["system_dependencies"], "system_dependencies", "name");
    }
    if (root["configure"])
      r.configure_args = conditional_strings(root["configure"], "configure", "arg");
    if (root["build"]) r.build_args = conditional_strings(root["build"], "build", "arg");
    if (root["install"]) r.install_args = conditional_strings(root["install"], "install", "arg");
    if (root["extra_install"]) {
      if (r.build_system != BuildSystem::kAutotools && r.build_system != BuildSystem::kMake) {
        fail(root["extra_install"],
             "extra_install runs `make`: it needs build_system autotools or make");
      }
      r.extra_install = conditional_strings(root["extra_install"], "extra_install", "arg");
    }
    if (root["expected_plugins"]) {
      if (!root["expected_plugins"].IsSequence()) {
        fail(root["expected_plugins"], "expected_plugins must be a list");
      }
      for (const auto& e : root["expected_plugins"]) r.expected_plugins.push_back(expected(e));
    }
    if (root["env"]) {
      const auto& e = root["env"];
      if (!e.IsMap()) fail(e, "env must be a mapping of variable name to value");
      static const std::regex kEnvName("^[A-Za-z_][A-Za-z0-9_]*$");
      for (const auto& kv : e) {
        auto key = kv.first.as<std::string>();
        if (!std::regex_match(key, kEnvName))
          fail(kv.first, "bad environment variable name '" + key + "'");
        r.env[key] = conditional_strings(kv.second, "env " + key, "value");
      }
    }
    if (root["patches"]) {
      if (!root["patches"].IsSequence()) fail(root["patches"], "patches must be a list");
      for (const auto& p : root["patches"]) r.patches.push_back(patch(p));
    }
    return r;
  }
};

}  // namespace

bool is_sha256_hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Recipe parse_recipe(std::string_view yaml_text, const std::string& origin) {
  Parser parser(origin);
  YAML::Node root;
  try {
    root = config::load_bounded(yaml_text, origin);
  } catch (const YAML::ParserException& e) {
    SourceLocation loc{origin, e.mark.line + 1, e.mark.column + 1};
    fail_at(loc, "YAML syntax error: " + e.msg, "fix the YAML syntax at that line");
  }
  try {
    return parser.recipe(root);
  } catch (const YAML::Exception& e) {
    SourceLocation loc{origin, e.mark.line + 1, e.mark.column + 1};
    fail_at(loc, e.msg, kRecipeDocs);
  }
}

}  // namespace sf
