// The catalog of toolchain releases: plugin families' releases and the config's site releases.
#include "toolchains/toolchain_catalog.hpp"

#include <algorithm>
#include <map>

#include "plugin_host/plugin_host.hpp"
#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"
#include "toolchains/toolchain_release_yaml.hpp"

namespace sf {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "file.yaml:12:3" -> "file.yaml" (an origin without line and column is returned as is).
std::string file_of(const std::string& origin) {
  std::string file = origin;
  for (int part = 0; part < 2; ++part) {
    const auto colon = file.rfind(':');
    if (colon == std::string::npos || colon + 1 == file.size() ||
        file.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
      return origin;
    }
    file.resize(colon);
  }
  return file;
}

}  // namespace

struct ToolchainCatalog::Impl {
  std::vector<std::shared_ptr<const ToolchainFamily>> families;
  std::vector<ToolchainRelease> releases;
  std::map<std::string, std::size_t> by_name;       // release -> index in releases
  std::map<std::string, std::size_t> family_index;  // family -> index in families

  const ToolchainRelease* find(const std::string& name) const {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : &releases[it->second];
  }
  void add(ToolchainRelease r) {
    by_name.emplace(r.name, releases.size());
    releases.push_back(std::move(r));
  }
};

ToolchainCatalog::ToolchainCatalog() : impl_(std::make_unique<Impl>()) {}
ToolchainCatalog::~ToolchainCatalog() = default;
ToolchainCatalog::ToolchainCatalog(ToolchainCatalog&&) noexcept = default;
ToolchainCatalog& ToolchainCatalog::operator=(ToolchainCatalog&&) noexcept = default;

void ToolchainCatalog::add_family(std::shared_ptr<const ToolchainFamily> family) {
  const std::string fname = family->name();
  if (impl_->family_index.count(fname) != 0) {
    throw PluginError("toolchain family '" + fname + "' is provided twice", {{"family", fname}},
                      "load only one plugin that provides it");
  }
  auto releases = family->releases();
  for (auto& r : releases) {
    if (r.family.empty()) r.family = fname;
    if (r.family != fname) {
      throw PluginError("toolchain family '" + fname + "' returned release '" + r.name +
                            "' of family '" + r.family + "'",
                        {{"family", fname}, {"release", r.name}},
                        "fix the family plugin: its releases belong to it");
    }
    if (const auto* other = impl_->find(r.name); other != nullptr) {
      throw PluginError("toolchain release '" + r.name + "' of family '" + fname +
                            "' is already defined by family '" + other->family + "'",
                        {{"release", r.name}, {"first", other->origin}, {"second", r.origin}},
                        "release names are unique across families: rename one of them");
    }
  }
  impl_->family_index.emplace(fname, impl_->families.size());
  impl_->families.push_back(std::move(family));
  for (auto& r : releases) impl_->add(std::move(r));
}

void ToolchainCatalog::add_site_releases(const std::vector<SiteToolchain>& site) {
  for (const auto& st : site) {
    const YAML::Node& node = st.definition;
    // Locations come from the node's marks when the config kept them, else from its origin.
    const std::string file = node.Mark().is_null() ? st.origin : file_of(st.origin);
    const std::string path = "toolchains." + st.name;
    if (!node.IsMap()) {
      throw_release_yaml_error(file, node, path,
                               "site toolchain '" + st.name + "' must be a mapping of keys",
                               "write `family: NAME` and the keys to set under its name");
    }
    if (const auto* other = impl_->find(st.name); other != nullptr) {
      throw_release_yaml_error(
          file, node, path,
          "site toolchain '" + st.name + "' has the name of an existing release (" + other->origin +
              ")",
          "give it another name and write `based_on: " + st.name + "` to start from that release");
    }
    std::string family = st.family;
    if (family.empty() && node["family"] && node["family"].IsScalar()) {
      family = node["family"].Scalar();
    }
    const ToolchainRelease* base = nullptr;
    if (const YAML::Node b = node["based_on"]; b) {
      if (!b.IsScalar()) {
        throw_release_yaml_error(file, b, path + ".based_on", "'based_on' must name a release",
                                 "write `based_on: noble`");
      }
      base = impl_->find(b.Scalar());
      if (base == nullptr) {
        throw_release_yaml_error(
            file, b, path + ".based_on",
            "site toolchain '" + st.name + "' is based on unknown release '" + b.Scalar() + "'",
            "use one of: " + join(names()));
      }
      if (family.empty()) family = base->family;
      if (family != base->family) {
        throw_release_yaml_error(file, node["family"] ? node["family"] : node, path + ".family",
                                 "site toolchain '" + st.name + "' has family '" + family +
                                     "' but is based on '" + base->name + "' of family '" +
                                     base->family + "'",
                                 "drop `family:` or base it on a release of family " + family);
      }
    }
    if (family.empty()) {
      throw_release_yaml_error(
          file, node, path, "site toolchain '" + st.name + "' names no family",
          "add `family:` one of " + join(family_names()) + " (or `based_on: RELEASE`)");
    }
    auto fam = impl_->family_index.find(family);
    if (fam == impl_->family_index.end()) {
      throw_release_yaml_error(
          file, node["family"] ? node["family"] : node, path + ".family",
          "site toolchain '" + st.name + "' is bound to toolchain family '" + family +
              "', which no loaded plugin provides (loaded: " +
              (impl_->families.empty() ? std::string("none") : join(family_names())) + ")",
          "use a loaded family, or add `toolchain-" + family +
              "` to plugins.load and put its libsf-toolchain-" + family +
              ".so in a plugin search path");
    }
    ToolchainRelease r = base != nullptr ? *base : impl_->families[fam->second]->release_defaults();
    r.name = st.name;
    r.family = family;
    apply_toolchain_release_yaml(r, node, file, path, {"family", "based_on"});
    require_complete_release(r, node, file, path);
    r.origin = st.origin.empty() ? yaml_location(file, node) : st.origin;
    impl_->add(std::move(r));
  }
}

const std::vector<ToolchainRelease>& ToolchainCatalog::releases() const { return impl_->releases; }

std::vector<std::string> ToolchainCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& r : impl_->releases) out.push_back(r.name);
  return out;
}

std::vector<std::string> ToolchainCatalog::family_names() const {
  std::vector<std::string> out;
  for (const auto& f : impl_->families) out.push_back(f->name());
  return out;
}

bool ToolchainCatalog::contains(const std::string& name) const {
  return impl_->find(name) != nullptr;
}

const ToolchainRelease& ToolchainCatalog::get(const std::string& name) const {
  if (const auto* r = impl_->find(name); r != nullptr) return *r;
  if (impl_->releases.empty()) {
    throw UsageError(
        "unknown toolchain '" + name + "': no toolchain family plugin is loaded",
        {{"toolchain", name}},
        "load the toolchain plugins (plugins.load: [toolchain-ubuntu, toolchain-rocky, "
        "toolchain-debian]) and check `slurm-factory plugins list`");
  }
  std::string closest;
  std::size_t best = 3;  // suggest only names within two edits
  for (const auto& r : impl_->releases) {
    if (const auto d = edit_distance(name, r.name); d < best) {
      best = d;
      closest = r.name;
    }
  }
  throw UsageError("unknown toolchain '" + name + "'" +
                       (closest.empty() ? std::string() : " (did you mean '" + closest + "'?)") +
                       "; valid toolchains: " + join(names()),
                   {{"toolchain", name}},
                   "run `slurm-factory toolchains list`, or define a site release under "
                   "`toolchains:` in your config");
}

const ToolchainFamily& ToolchainCatalog::family_of(const std::string& name) const {
  return *shared_family_of(name);
}

std::shared_ptr<const ToolchainFamily> ToolchainCatalog::shared_family_of(
    const std::string& name) const {
  const auto& r = get(name);
  return impl_->families.at(impl_->family_index.at(r.family));
}

std::string ToolchainCatalog::setup_script(const std::string& name,
                                           const std::vector<std::string>& extra_packages) const {
  return family_of(name).setup_script(get(name), extra_packages);
}

std::optional<BootstrapRecipe> ToolchainCatalog::bootstrap_recipe(const std::string& name) const {
  return family_of(name).bootstrap_recipe(get(name));
}

ToolchainCatalog make_toolchain_catalog(const PluginHost& host, const Config& config) {
  ToolchainCatalog catalog;
  std::vector<std::string> added;
  auto add = [&](const std::string& family) {
    if (std::find(added.begin(), added.end(), family) != added.end()) return;
    catalog.add_family(std::shared_ptr<const ToolchainFamily>(host.make_toolchain_family(family)));
    added.push_back(family);
  };
  for (const auto& plugin : host.plugins()) {
    for (const auto& [kind, name] : plugin.provides) {
      if (kind == "toolchain") add(name);
    }
  }
  for (const auto& family : host.toolchain_family_names()) add(family);
  catalog.add_site_releases(config.toolchains);
  return catalog;
}

}  // namespace sf
