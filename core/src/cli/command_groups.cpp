#include "slurm_factory/core/cli/command_groups.hpp"

namespace sf::cli {

CommandTable& builtin_commands() {
  static CommandTable table = [] {
    CommandTable t;
    // Keep this list in the order shown by --help.
    add_build_commands(t);
    add_cache_commands(t);
    add_config_commands(t);
    add_container_commands(t);
    add_package_commands(t);
    add_plan_commands(t);
    add_plugin_commands(t);
    add_toolchain_commands(t);
    add_verify_commands(t);
    add_version_commands(t);
    return t;
  }();
  return table;
}

}  // namespace sf::cli
