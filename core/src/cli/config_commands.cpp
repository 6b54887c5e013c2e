#include <ostream>

#include "app/app.hpp"
#include "cli/command_groups.hpp"
#include "config/config_render.hpp"

namespace po = boost::program_options;

namespace sf::cli {

void add_config_commands(CommandTable& table) {
  table.add(
      {{"config", "show"},
       "print the merged config with the origin of each value",
       [](Invocation& inv) {
         CommandSpec spec{
             "slurm-factory config show [options]",
             "Prints the configuration in effect: the embedded default merged with\n"
             "/etc/slurm-factory/config.yaml, ~/.config/slurm-factory/config.yaml, each\n"
             "--config FILE, the selected profile and the environment. Each value is shown\n"
             "with where it came from (default, file:line:col, env VAR, --flag). Secrets are\n"
             "redacted; environment-variable names and file paths are shown.",
             "  slurm-factory config show\n"
             "  slurm-factory config show --profile ci\n"
             "  slurm-factory --config site.yaml config show --json\n"};
         po::options_description opts("Options");
         if (!parse_command(inv, spec, opts)) return 0;
         App app(inv.global);
         const Config& config = app.config();
         if (inv.global.json) {
           inv.out << config::render_config_json(config).dump(2) << "\n";
         } else {
           inv.out << config::render_config_text(config);
         }
         return 0;
       }});
}

}  // namespace sf::cli
