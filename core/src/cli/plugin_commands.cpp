// `slurm-factory plugins list`: the plugins the config loads, what each provides, its version, ABI
// (and toolchain fingerprint) and file.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "cli/command_groups.hpp"
#include "support/text_table.hpp"

namespace po = boost::program_options;

namespace sf::cli {
namespace {

std::string provides_text(const LoadedPlugin& p) {
  std::string out;
  for (const auto& [kind, name] : p.provides) out += (out.empty() ? "" : ", ") + kind + " " + name;
  return out.empty() ? "-" : out;
}

nlohmann::ordered_json plugin_json(const LoadedPlugin& p) {
  nlohmann::ordered_json provides = nlohmann::ordered_json::array();
  std::vector<std::string> kinds;
  for (const auto& [kind, name] : p.provides) {
    provides.push_back({{"kind", kind}, {"name", name}});
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  }
  return {{"name", p.name},     {"version", p.version},     {"description", p.description},
          {"abi", p.abi.str()}, {"toolchain", p.toolchain}, {"file", p.file.string()},
          {"kinds", kinds},     {"provides", provides}};
}

void print_table(std::ostream& out, const std::deque<LoadedPlugin>& plugins, bool verbose) {
  const std::vector<std::string> header{"NAME", "VERSION", "ABI", "PROVIDES", "FILE"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : plugins) {
    rows.push_back({p.name, p.version, p.abi.str(), provides_text(p), p.file.string()});
  }
  const auto lines = format_table(header, rows);
  out << lines[0] << "\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out << lines[i + 1] << "\n";
    if (verbose && !plugins[i].description.empty()) out << "  " << plugins[i].description << "\n";
    if (verbose) out << "  toolchain: " << plugins[i].toolchain << "\n";
  }
}

}  // namespace

void add_plugin_commands(CommandTable& table) {
  table.add({{"plugins", "list"},
             "list the loaded plugins: what they provide, version, ABI, file",
             [](Invocation& inv) {
               CommandSpec spec{
                   "slurm-factory plugins list [options]",
                   "Loads the plugins named in the config (plugins.load), searching\n"
                   "$SLURM_FACTORY_PLUGIN_PATH, plugins.search_paths and the plugin directory\n"
                   "beside the binary for libsf-<name>.so, and lists each with what it provides\n"
                   "(kind and name), its version, the plugin ABI it was built for and its file.\n"
                   "A plugin the host refuses (missing, wrong ABI, duplicate name, ...) is an\n"
                   "error naming the file and what to do. -v adds each plugin's description and\n"
                   "the toolchain fingerprint it was built with (--json: \"toolchain\").",
                   "  slurm-factory plugins list\n"
                   "  slurm-factory plugins list --json\n"
                   "  SLURM_FACTORY_PLUGIN_PATH=$PWD/build slurm-factory --config my.yaml plugins "
                   "list\n"};
               po::options_description opts("Options");
               if (!parse_command(inv, spec, opts)) return 0;
               App app(inv.global);
               const auto& plugins = app.plugins().plugins();
               if (inv.global.json) {
                 nlohmann::ordered_json list = nlohmann::ordered_json::array();
                 for (const auto& p : plugins) list.push_back(plugin_json(p));
                 inv.out << list.dump(2) << "\n";
               } else if (plugins.empty()) {
                 inv.out << "no plugins loaded (plugins.load is empty)\n";
               } else {
                 print_table(inv.out, plugins, inv.global.verbosity > 0);
               }
               return 0;
             }});
}

}  // namespace sf::cli
