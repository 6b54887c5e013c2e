#include "recipes/planner.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "recipes/package_hash.hpp"
#include "recipes/recipe_error.hpp"
#include "recipes/version_constraints.hpp"
#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"

namespace sf {

namespace {

void collect_features(const Condition& c, std::set<std::string>& out) {
  out.insert(c.feature.begin(), c.feature.end());
  out.insert(c.not_feature.begin(), c.not_feature.end());
}

// Features any condition of the recipe mentions.
std::set<std::string> mentioned_features(const Recipe& r) {
  std::set<std::string> out;
  for (const auto& d : r.dependencies) collect_features(d.when, out);
  for (const auto* list : {&r.configure_args, &r.build_args, &r.install_args, &r.extra_install,
                           &r.system_dependencies}) {
    for (const auto& cs : *list) collect_features(cs.when, out);
  }
  for (const auto& [_, list] : r.env) {
    for (const auto& cs : list) collect_features(cs.when, out);
  }
  for (const auto& p : r.patches) collect_features(p.when, out);
  return out;
}

class PlanBuilder {
 public:
  PlanBuilder(const RecipeBook& book, const PlanRequest& request, Plan& plan)
      : book_(book), req_(request), plan_(plan) {
    arch_ = req_.arch.empty() ? req_.toolchain.arch : req_.arch;
    features_ = req_.features;
    std::sort(features_.begin(), features_.end());
    features_.erase(std::unique(features_.begin(), features_.end()), features_.end());
    for (const auto& [k, _] : req_.toolchain.dev_packages) system_has_.push_back(k);
    for (const auto& [name, _] : req_.origin_overrides) (void)book_.get(name);
    for (const auto& [name, _] : req_.version_overrides) (void)book_.get(name);
  }

  void build() {
    const Recipe& root = book_.get(req_.root);
    plan_.slurm_version = resolve_version(req_.slurm_version, root.version_names(), root.name);
    visit(root);
    mark_runtime();
    collect_system_packages();
  }

 private:
  std::string choose_version(const Recipe& r) {
    if (r.name == req_.root) return plan_.slurm_version;
    if (auto it = req_.version_overrides.find(r.name); it != req_.version_overrides.end()) {
      return resolve_version(it->second, r.version_names(), r.name);
    }
    if (!r.default_version.empty()) return r.default_version;
    return resolve_version("latest", r.version_names(), r.name);
  }

  ConditionContext context_for(const std::string& version) const {
    ConditionContext ctx;
    ctx.slurm_version = plan_.slurm_version;
    ctx.package_version = version;
    ctx.features = features_;
    ctx.family = req_.toolchain.family;
    ctx.release = req_.toolchain.name;
    ctx.arch = arch_;
    ctx.system_has = system_has_;
    return ctx;
  }

  std::string substitute(const std::string& text, const PackageSpec& spec,
                         const SourceLocation& where) const {
    std::string out;
    size_t pos = 0;
    while (true) {
      size_t start = text.find("${", pos);
      if (start == std::string::npos) {
        out += text.substr(pos);
        break;
      }
      out += text.substr(pos, start - pos);
      size_t end = text.find('}', start);
      std::string var = text.substr(start + 2, end - start - 2);
      if (var == "jobs") {
        out += "${jobs}";  // resolved by the executor: parallelism does not change the result
      } else if (var == "prefix") {
        out += spec.prefix;
      } else if (var == "name") {
        out += spec.name;
      } else if (var == "version") {
        out += spec.version;
      } else if (var == "slurm_version") {
        out += plan_.slurm_version;
      } else if (var == "arch") {
        out += arch_;
      } else if (var == "family") {
        out += req_.toolchain.family;
      } else if (var == "release") {
        out += req_.toolchain.name;
      } else if (var == "multiarch") {
        out += multiarch_triplet(arch_);
      } else if (var.starts_with("dep:")) {
        std::string dep = var.substr(4);
        bool active = std::any_of(spec.dependencies.begin(), spec.dependencies.end(),
                                  [&](const DependencyEdge& e) { return e.name == dep; });
        if (!active) {
          fail_at(where,
                  "'${dep:" + dep + "}' is used, but dependency '" + dep + "' of " + spec.name +
                      " is not active for this request",
                  "give the argument the same 'when:' condition as the dependency");
        }
        const PackageSpec* d = plan_.find(dep);
        out += d->origin == Origin::kSystem ? d->system_prefix : spec.prefix;
      } else {
        fail_at(where, "unknown variable '${" + var + "}'", "see recipe_parser.hpp");
      }
      pos = end + 1;
    }
    return out;
  }

  std::vector<std::string> resolve_list(const std::vector<ConditionalString>& list,
                                        const ConditionContext& ctx,
                                        const PackageSpec& spec) const {
    std::vector<std::string> out;
    for (const auto& cs : list) {
      if (cs.when.holds(ctx)) out.push_back(substitute(cs.value, spec, cs.where));
    }
    return out;
  }

  void visit(const Recipe& r) {
    if (done_.count(r.name) != 0) return;
    if (!active_.insert(r.name).second) {
      fail_at(r.where, "dependency cycle through recipe '" + r.name + "'",
              "remove one of the dependencies in the cycle");
    }
    PackageSpec spec;
    spec.name = r.name;
    spec.recipe_file = r.where.file;
    spec.version = choose_version(r);
    spec.prefix = req_.prefix;
    spec.toolchain = {req_.toolchain.family, req_.toolchain.name, arch_, req_.toolchain_image_hash};
    spec.build_system = r.build_system;
    spec.origin = r.origin_for(req_.toolchain.family, req_.toolchain.name);
    spec.runtime_dlopen = r.runtime_dlopen;
    if (r.public_programs) {
      spec.public_programs = *r.public_programs;
    } else if (r.name == req_.root) {
      spec.public_programs = {"*"};  // Slurm's commands and daemons
    }
    if (auto it = req_.origin_overrides.find(r.name); it != req_.origin_overrides.end()) {
      spec.origin = it->second;
    }
    if (r.name == req_.root && spec.origin == Origin::kSystem) {
      throw UsageError("the root package '" + r.name + "' cannot come from the system",
                       {{"package", r.name}}, "drop the origin override for " + r.name);
    }
    auto mentioned = mentioned_features(r);
    for (const auto& f : features_) {
      if (r.name == req_.root || mentioned.count(f) != 0) spec.features.push_back(f);
    }
    ConditionContext ctx = context_for(spec.version);

    if (spec.origin == Origin::kSystem) {
      if (r.system_package.empty()) {
        throw ConfigurationError(
            "recipe '" + r.name + "' cannot come from the system: it names no system_package",
            {{"package", r.name}, {"recipe", r.where.file}},
            "build it from source (--from " + r.name + "=source) or add 'system_package:'");
      }
      auto dev = req_.toolchain.dev_packages.find(r.system_package);
      if (dev == req_.toolchain.dev_packages.end() || dev->second.empty()) {
        throw ConfigurationError(
            "toolchain release '" + req_.toolchain.name + "' has no dev package for '" +
                r.system_package + "', so " + r.name + " cannot come from the system",
            {{"package", r.name},
             {"toolchain", req_.toolchain.name},
             {"release origin", req_.toolchain.origin}},
            "build it from source (--from " + r.name + "=source), or add dev_packages." +
                r.system_package + " to the release definition");
      }
      spec.system_package = r.system_package;
      spec.system_package_names = dev->second;
      spec.system_prefix = substitute(
          r.system_prefix_for(req_.toolchain.family, req_.toolchain.name), spec, r.where);
    } else {
      const RecipeVersion* rv = r.find_version(spec.version);
      spec.source = {rv->sha256, rv->filename, rv->mirrors, rv->strip_dir};
      spec.autoreconf = r.autoreconf;
      spec.incremental = r.incremental;
      spec.make_shell = rv->make_shell ? *rv->make_shell : r.make_shell;
      spec.configure_command = r.configure_command;
      for (const auto& d : r.dependencies) {
        if (!d.when.holds(ctx)) continue;
        visit(book_.get(d.name));
        spec.dependencies.push_back({d.name, d.types, plan_.find(d.name)->hash});
      }
      spec.configure_args = resolve_list(r.configure_args, ctx, spec);
      if (r.name == req_.root) {
        for (const auto& a : req_.extra_slurm_configure_args) spec.configure_args.push_back(a);
      }
      spec.build_args = resolve_list(r.build_args, ctx, spec);
      spec.install_args = resolve_list(r.install_args, ctx, spec);
      spec.extra_install = resolve_list(r.extra_install, ctx, spec);
      for (const auto& [key, values] : r.env) {
        auto parts = resolve_list(values, ctx, spec);
        if (parts.empty()) continue;
        std::string joined = join(parts, " ");
        spec.env[key] = joined;
      }
      for (const auto& p : r.patches) {
        if (!p.when.holds(ctx)) continue;
        const std::string path =
            book_.directory().empty() ? std::string() : (book_.directory() / p.file).string();
        spec.patches.push_back({p.file, p.sha256, p.strip, path, p.relocates});
      }
      for (const auto& s : r.system_dependencies) {
        if (s.when.holds(ctx)) spec.system_dependencies.push_back(s.value);
      }
      for (const auto& e : r.expected_plugins) {
        if (e.when.holds(ctx)) plan_.expected_plugins.push_back(expected(r, spec, e));
      }
    }
    if (spec.origin != Origin::kSystem) spec.build_network = req_.build_network;
    spec.hash = package_hash(canonical_description(spec));
    active_.erase(r.name);
    done_.insert(r.name);
    plan_.packages.push_back(std::move(spec));
  }

  // What provides an expected plugin, named so that an admin can act on it.
  PlannedPlugin expected(const Recipe& r, const PackageSpec& spec, const ExpectedPlugin& e) const {
    PlannedPlugin p{r.name, e.plugin, e.file, {}};
    const std::string& by = e.provided_by;
    const bool is_dependency =
        !by.empty() && std::any_of(spec.dependencies.begin(), spec.dependencies.end(),
                                   [&](const DependencyEdge& d) { return d.name == by; });
    const auto dev =
        by.empty() ? req_.toolchain.dev_packages.end() : req_.toolchain.dev_packages.find(by);
    auto joined = [](const std::vector<std::string>& v) {
      std::string out = join(v, ", ");
      return out;
    };
    if (by.empty()) {
      p.provider = "the " + r.name + " build itself (" + e.where.str() + ")";
    } else if (is_dependency && plan_.find(by)->origin == Origin::kSystem) {
      p.provider = joined(plan_.find(by)->system_package_names) + " (" + by + " from the system)";
    } else if (is_dependency) {
      p.provider = "the recipe " + by + " (" + book_.get(by).where.file + ")";
    } else if (dev != req_.toolchain.dev_packages.end() && !dev->second.empty()) {
      p.provider =
          joined(dev->second) + " (dev_packages." + by + " of " + req_.toolchain.name + ")";
    } else {
      // A site release that empties the list (`dev_packages: {freeipmi: []}`) says where.
      const std::string defined_at =
          req_.toolchain.origin.empty() ? "" : ", defined at " + req_.toolchain.origin;
      p.provider = "dev_packages." + by + ", which release " + req_.toolchain.name +
                   (dev != req_.toolchain.dev_packages.end() ? " leaves empty" + defined_at
                                                             : " does not define") +
                   " (expected at " + e.where.str() + ")";
    }
    return p;
  }

  void mark_runtime() {
    for (auto& p : plan_.packages) p.runtime = false;
    std::function<void(const std::string&)> mark = [&](const std::string& name) {
      auto it = std::find_if(plan_.packages.begin(), plan_.packages.end(),
                             [&](const PackageSpec& p) { return p.name == name; });
      if (it->runtime) return;
      it->runtime = true;
      for (const auto& e : it->dependencies) {
        bool runtime_edge = std::any_of(e.types.begin(), e.types.end(), [](DependencyType t) {
          return t == DependencyType::kLink || t == DependencyType::kRun;
        });
        if (runtime_edge) mark(e.name);
      }
    };
    mark(req_.root);
  }

  void collect_system_packages() {
    std::set<std::string> logical;
    for (const auto& p : plan_.packages) {
      if (p.origin == Origin::kSystem) logical.insert(p.system_package);
      logical.insert(p.system_dependencies.begin(), p.system_dependencies.end());
    }
    plan_.system_packages.assign(logical.begin(), logical.end());
    std::set<std::string> names;
    for (const auto& l : logical) {
      auto it = req_.toolchain.dev_packages.find(l);
      if (it != req_.toolchain.dev_packages.end())
        names.insert(it->second.begin(), it->second.end());
    }
    plan_.system_package_names.assign(names.begin(), names.end());
  }

  const RecipeBook& book_;
  const PlanRequest& req_;
  Plan& plan_;
  std::string arch_;
  std::vector<std::string> features_;
  std::vector<std::string> system_has_;
  std::set<std::string> done_;
  std::set<std::string> active_;
};

}  // namespace

std::string recipe_to_fix(const std::string& name, const std::string& recipe_file) {
  return recipe_file.empty() ? "the " + name + " recipe" : recipe_file;
}

std::string multiarch_triplet(const std::string& arch) {
  if (arch == "amd64" || arch == "x86_64") return "x86_64-linux-gnu";
  if (arch == "arm64" || arch == "aarch64") return "aarch64-linux-gnu";
  if (arch == "ppc64el" || arch == "ppc64le") return "powerpc64le-linux-gnu";
  if (arch == "s390x") return "s390x-linux-gnu";
  if (arch == "riscv64") return "riscv64-linux-gnu";
  return arch + "-linux-gnu";
}

const PackageSpec* Plan::find(const std::string& name) const {
  for (const auto& p : packages) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<const PackageSpec*> Plan::build_inputs(const std::string& name) const {
  std::set<std::string> wanted;
  std::function<void(const std::string&, bool)> add = [&](const std::string& n, bool direct) {
    const PackageSpec* p = find(n);
    if (p == nullptr) return;
    for (const auto& e : p->dependencies) {
      bool follow = direct || std::any_of(e.types.begin(), e.types.end(), [](DependencyType t) {
                      return t == DependencyType::kLink || t == DependencyType::kRun;
                    });
      if (follow && wanted.insert(e.name).second) add(e.name, false);
    }
  };
  add(name, true);
  std::vector<const PackageSpec*> out;
  for (const auto& p : packages) {
    if (wanted.count(p.name) != 0 && p.origin == Origin::kSource) out.push_back(&p);
  }
  return out;
}

nlohmann::json Plan::to_json() const {
  nlohmann::json pkgs = nlohmann::json::array();
  for (const auto& p : packages) {
    nlohmann::json deps = nlohmann::json::array();
    for (const auto& e : p.dependencies) {
      nlohmann::json types = nlohmann::json::array();
      for (auto t : e.types) types.push_back(to_string(t));
      deps.push_back({{"name", e.name}, {"types", types}, {"hash", e.hash}});
    }
    nlohmann::json j{
        {"name", p.name},         {"version", p.version}, {"origin", to_string(p.origin)},
        {"hash", p.hash},         {"hash12", p.hash12()}, {"runtime", p.runtime},
        {"features", p.features}, {"dependencies", deps}};
    if (p.origin == Origin::kSystem) {
      j["system_package"] = {{"name", p.system_package},
                             {"packages", p.system_package_names},
                             {"prefix", p.system_prefix}};
    } else {
      j["build_system"] = to_string(p.build_system);
      j["autoreconf"] = p.autoreconf;
      if (p.incremental) j["incremental"] = true;
      if (!p.make_shell.empty()) j["make_shell"] = p.make_shell;
      if (!p.configure_command.empty()) j["configure_command"] = p.configure_command;
      j["source"] = {{"sha256", p.source.sha256},
                     {"file", p.source.filename},
                     {"mirrors", p.source.mirrors},
                     {"strip_dir", p.source.strip_dir}};
      j["configure"] = p.configure_args;
      j["build"] = p.build_args;
      j["install"] = p.install_args;
      if (!p.extra_install.empty()) j["extra_install"] = p.extra_install;
      j["env"] = p.env;
      nlohmann::json patches = nlohmann::json::array();
      for (const auto& pa : p.patches) {
        patches.push_back({{"file", pa.file}, {"sha256", pa.sha256}, {"strip", pa.strip}});
      }
      j["patches"] = patches;
      j["system_dependencies"] = p.system_dependencies;
    }
    pkgs.push_back(std::move(j));
  }
  nlohmann::json expected = nlohmann::json::array();
  for (const auto& e : expected_plugins) {
    expected.push_back(
        {{"package", e.package}, {"plugin", e.plugin}, {"file", e.file}, {"provider", e.provider}});
  }
  return {{"slurm_version", slurm_version},
          {"requested_slurm_version", request.slurm_version},
          {"toolchain",
           {{"family", request.toolchain.family},
            {"release", request.toolchain.name},
            {"arch", request.arch.empty() ? request.toolchain.arch : request.arch},
            {"image_hash", request.toolchain_image_hash}}},
          {"features", request.features},
          {"prefix", request.prefix},
          {"packages", pkgs},
          {"system_packages", system_packages},
          {"system_package_names", system_package_names},
          {"expected_plugins", expected}};
}

Plan make_plan(const RecipeBook& book, const PlanRequest& request) {
  Plan plan;
  plan.request = request;
  PlanBuilder(book, request, plan).build();
  check_version_constraints(book, plan);
  return plan;
}

}  // namespace sf
