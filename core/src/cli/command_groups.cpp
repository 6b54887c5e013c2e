#include "cli/command_groups.hpp"

namespace sf::cli {

CommandTable& builtin_commands() {
  static CommandTable table = [] {
    CommandTable t;
    // Keep this list in the order shown by --help.
    add_build_commands(t);      // build-slurm: the main job
    add_run_commands(t);        // run: a configured pipeline of build-slurm cells
    add_plan_commands(t);       // plan, fetch
    add_toolchain_commands(t);  // toolchains list / show
    add_container_commands(t);  // toolchain prepare / run, clean
    add_plugin_commands(t);
    add_config_commands(t);
    add_cache_commands(t);
    add_package_commands(t);
    add_verify_commands(t);
    add_rebuild_commands(t);  // rebuild: reproduce an artifact from its provenance
    add_version_commands(t);
    return t;
  }();
  return table;
}

}  // namespace sf::cli
