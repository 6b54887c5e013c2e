#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/command_groups.hpp"
#include "slurm_factory/abi.hpp"

namespace po = boost::program_options;

namespace sf::cli {

void add_version_commands(CommandTable& table) {
  table.add({{"version"}, "print the version and plugin ABI", [](Invocation& inv) {
               CommandSpec spec{
                   "slurm-factory version [options]",
                   "Prints the tool version and the plugin ABI it accepts; --json adds\n"
                   "the toolchain fingerprint plugins must be built with (\"toolchain\").",
                   "  slurm-factory version\n  slurm-factory version --json\n"};
               po::options_description opts("Options");
               if (!parse_command(inv, spec, opts)) return 0;
               if (inv.global.json) {
                 inv.out << nlohmann::json{{"version", SF_VERSION},
                                           {"abi", kAbiVersion.str()},
                                           {"toolchain", toolchain_fingerprint()}}
                                .dump()
                         << "\n";
               } else {
                 inv.out << "slurm-factory " << SF_VERSION << " (plugin ABI " << kAbiVersion.str()
                         << ")\n";
               }
               return 0;
             }});
}

}  // namespace sf::cli
