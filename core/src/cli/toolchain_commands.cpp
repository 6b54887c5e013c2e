// `slurm-factory toolchains list` and `toolchains show NAME`: the releases of the loaded toolchain
// family plugins and the config's site releases, with their data and rendered setup script.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "cli/command_groups.hpp"
#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"
#include "support/text_table.hpp"
#include "toolchains/toolchain_catalog.hpp"
#include "toolchains/toolchain_resolution.hpp"

namespace po = boost::program_options;

namespace sf::cli {
namespace {

std::string base_of(const ToolchainRelease& r) {
  if (!r.base_image.empty()) return r.base_image;
  return r.bootstrap ? "(bootstrap " + r.bootstrap->tool + " " + r.bootstrap->suite + ")" : "-";
}

nlohmann::json summary_json(const ToolchainRelease& r) {
  return {{"name", r.name},
          {"family", r.family},
          {"os", r.os_name},
          {"os_version", r.os_version},
          {"gcc", r.gcc_version},
          {"glibc", r.glibc_version},
          {"base_image", r.base_image},
          {"arch", r.arch},
          {"package_manager", to_string(r.package_manager)},
          {"bootstrap", r.bootstrap.has_value()},
          {"origin", r.origin}};
}

nlohmann::json release_json(const ToolchainRelease& r, const std::vector<std::string>& extra,
                            const std::vector<std::string>& packages, const std::string& script) {
  auto j = summary_json(r);
  j["build_arch"] = r.build_arch;
  j["cross_arches"] = r.cross_arches;
  j["build_tools"] = r.build_tools;
  j["dev_packages"] = r.dev_packages;
  j["gpu_packages"] = r.gpu_packages;
  nlohmann::json repos = nlohmann::json::array();
  for (const auto& repo : r.repositories) {
    repos.push_back({{"name", repo.name},
                     {"method", repo.method},
                     {"packages", repo.packages},
                     {"url", repo.url},
                     {"needed_by", repo.needed_by}});
  }
  j["repositories"] = repos;
  j["quirks"] = r.quirks;
  j["system_libraries"] = r.system_libraries;
  if (r.bootstrap) {
    j["bootstrap"] = {{"tool", r.bootstrap->tool},
                      {"variant", r.bootstrap->variant},
                      {"suite", r.bootstrap->suite},
                      {"mirror", r.bootstrap->mirror},
                      {"components", r.bootstrap->components},
                      {"extra_packages", r.bootstrap->extra_packages}};
  } else {
    j["bootstrap"] = nullptr;
  }
  j["extra_packages"] = extra;
  j["packages"] = packages;
  j["setup_script"] = script;
  return j;
}

void print_table(std::ostream& out, const std::vector<ToolchainRelease>& releases) {
  const std::vector<std::string> header{"NAME",  "FAMILY",     "OS",    "GCC",
                                        "GLIBC", "BASE IMAGE", "ORIGIN"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : releases) {
    rows.push_back(
        {r.name, r.family, r.os_name, r.gcc_version, r.glibc_version, base_of(r), r.origin});
  }
  for (const auto& l : format_table(header, rows)) out << l << "\n";
}

// GPU flavours named with --gpu (comma-separated, repeatable) -> the release's packages for them.
std::vector<std::string> gpu_packages_for(const ToolchainRelease& r,
                                          const std::vector<std::string>& gpu_args) {
  std::vector<std::string> flavours;
  for (const auto& arg : gpu_args) {
    std::size_t start = 0;
    while (start <= arg.size()) {
      const auto comma = arg.find(',', start);
      const auto item = arg.substr(start, comma == std::string::npos ? arg.npos : comma - start);
      if (!item.empty()) flavours.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::vector<std::string> known;
  for (const auto& [flavour, pkgs] : r.gpu_packages) known.push_back(flavour);
  std::vector<std::string> out;
  for (const auto& f : flavours) {
    auto it = r.gpu_packages.find(f);
    if (it == r.gpu_packages.end()) {
      throw UsageError("unknown GPU flavour '" + f + "' for toolchain " + r.name,
                       {{"toolchain", r.name}}, "use one of: " + join(known));
    }
    if (it->second.empty()) {
      throw UsageError("toolchain " + r.name + " has no packages for GPU flavour '" + f + "'",
                       {{"toolchain", r.name}, {"origin", r.origin}},
                       "choose another toolchain, or define the packages in a site release "
                       "(based_on: " +
                           r.name + ", gpu_packages: {" + f + ": [...]})");
    }
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
  return out;
}

void print_release(std::ostream& out, const ToolchainRelease& r,
                   const std::vector<std::string>& extra, const std::string& script) {
  auto field = [&](const std::string& name, const std::string& value) {
    out << name << ":" << std::string(name.size() < 16 ? 16 - name.size() : 1, ' ')
        << (value.empty() ? "-" : value) << "\n";
  };
  auto package_map = [&](const std::string& title,
                         const std::map<std::string, std::vector<std::string>>& m) {
    out << title << ":\n";
    if (m.empty()) out << "  -\n";
    for (const auto& [k, v] : m) {
      out << "  " << k << ":" << std::string(k.size() < 14 ? 14 - k.size() : 1, ' ')
          << (v.empty() ? "(none)" : join(v, " ")) << "\n";
    }
  };
  field("name", r.name);
  field("family", r.family);
  field("os", r.os_name + (r.os_version.empty() ? "" : " (" + r.os_version + ")"));
  field("gcc", r.gcc_version);
  field("glibc", r.glibc_version);
  field("arch", r.arch + (is_cross_build(r) ? " (cross-built on " + r.build_arch + ")" : ""));
  field("cross-builds", r.cross_arches.empty() ? std::string("no (native builds only)")
                                               : join(r.cross_arches, " "));
  field("base image", r.base_image);
  field("package manager", to_string(r.package_manager));
  if (r.bootstrap) {
    field("bootstrap", r.bootstrap->tool + " --variant=" + r.bootstrap->variant + " " +
                           r.bootstrap->suite + " " + r.bootstrap->mirror + " (components " +
                           join(r.bootstrap->components) + ")");
  } else {
    field("bootstrap", "none (the base image is pulled)");
  }
  field("origin", r.origin);
  package_map("build tools", r.build_tools);
  package_map("dev packages", r.dev_packages);
  package_map("gpu packages", r.gpu_packages);
  out << "repositories:\n";
  if (r.repositories.empty()) out << "  -\n";
  for (const auto& repo : r.repositories) {
    out << "  " << repo.name << " (" << repo.method
        << (repo.packages.empty() ? "" : ": " + join(repo.packages, " "))
        << (repo.url.empty() ? "" : ": " + repo.url) << ")"
        << (repo.needed_by.empty() ? "" : " when installing " + join(repo.needed_by, " ")) << "\n";
  }
  out << "quirks:\n";
  if (r.quirks.empty()) out << "  -\n";
  for (const auto& q : r.quirks) out << "  " << q << "\n";
  out << "system libraries:\n  " << (r.system_libraries.empty() ? "-" : join(r.system_libraries))
      << "\n";
  if (!extra.empty()) out << "extra packages:\n  " << join(extra, " ") << "\n";
  out << "\nsetup script:\n" << script;
}

}  // namespace

void add_toolchain_commands(CommandTable& table) {
  table.add(
      {{"toolchains", "list"},
       "list the toolchain releases: family, OS, GCC, glibc, base image, origin",
       [](Invocation& inv) {
         CommandSpec spec{
             "slurm-factory toolchains list [options]",
             "Lists every toolchain release the tool can build for: the releases of the loaded\n"
             "toolchain family plugins (plugins.load) and the site releases defined under\n"
             "`toolchains:` in the config, with family, OS, GCC and glibc versions, base image\n"
             "and where each was defined.",
             "  slurm-factory toolchains list\n"
             "  slurm-factory toolchains list --json\n"
             "  slurm-factory --config site.yaml toolchains list\n"};
         po::options_description opts("Options");
         if (!parse_command(inv, spec, opts)) return 0;
         App app(inv.global);
         const auto catalog = make_toolchain_catalog(app.plugins(), app.config());
         if (inv.global.json) {
           nlohmann::json list = nlohmann::json::array();
           for (const auto& r : catalog.releases()) list.push_back(summary_json(r));
           inv.out << list.dump(2) << "\n";
         } else if (catalog.releases().empty()) {
           inv.out << "no toolchain releases: no toolchain family plugin is loaded "
                      "(plugins.load) and the config defines no site release\n";
         } else {
           print_table(inv.out, catalog.releases());
         }
         return 0;
       }});
  table.add(
      {{"toolchains", "show"},
       "show a toolchain release: all its data and its rendered setup script",
       [](Invocation& inv) {
         CommandSpec spec{
             "slurm-factory toolchains show NAME [options]",
             "Shows everything the tool knows about a toolchain release: OS, compiler and C\n"
             "library versions, base image or offline bootstrap recipe, build tools and -dev\n"
             "packages, GPU packages, extra repositories, quirks, the system libraries a\n"
             "minimal host has, and the setup script that turns the base image into the\n"
             "build image. --gpu adds the release's packages for GPU flavours to the script;\n"
             "--arch shows the release as a build for that architecture (another than the\n"
             "host's: the cross-build image, docs/arm64.md); --script prints the script alone\n"
             "(a POSIX sh script, e.g. for shellcheck).",
             "  slurm-factory toolchains show noble\n"
             "  slurm-factory toolchains show trixie --gpu cuda,rocm\n"
             "  slurm-factory toolchains show trixie --arch arm64 --script\n"
             "  slurm-factory toolchains show rockylinux9 --script | shellcheck -s sh -\n"
             "  slurm-factory toolchains show bookworm --json\n"};
         po::options_description opts("Options");
         opts.add_options()("name", po::value<std::string>(), "the toolchain release")(
             "gpu", po::value<std::vector<std::string>>()->composing(),
             "GPU flavours whose packages the script installs: cuda, rocm, oneapi "
             "(comma-separated)")("arch", po::value<std::string>()->default_value(""),
                                  "target architecture, amd64 or arm64 (default: this host's)")(
             "script", "print only the setup script");
         po::positional_options_description positional;
         positional.add("name", 1);
         auto vm = parse_command(inv, spec, opts, positional);
         if (!vm) return 0;
         if (vm->count("name") == 0U) {
           throw UsageError("toolchains show needs the name of a toolchain release", {},
                            "run 'slurm-factory toolchains list' for the names, e.g. "
                            "'slurm-factory toolchains show noble'");
         }
         App app(inv.global);
         const auto catalog = make_toolchain_catalog(app.plugins(), app.config());
         const auto release = release_for_arch(catalog, (*vm)["name"].as<std::string>(),
                                               (*vm)["arch"].as<std::string>());
         const auto extra = gpu_packages_for(
             release, vm->count("gpu") != 0U ? (*vm)["gpu"].as<std::vector<std::string>>()
                                             : std::vector<std::string>{});
         const std::string script = catalog.family_of(release.name).setup_script(release, extra);
         if (vm->count("script") != 0U) {
           inv.out << script;
         } else if (inv.global.json) {
           const auto packages = catalog.family_of(release.name).setup_packages(release, extra);
           inv.out << release_json(release, extra, packages, script).dump(2) << "\n";
         } else {
           print_release(inv.out, release, extra, script);
         }
         return 0;
       }});
}

}  // namespace sf::cli
