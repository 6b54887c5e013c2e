// One function per command group, each in core/src/cli/<group>_commands.cpp.
#pragma once

#include "cli/command.hpp"

namespace sf::cli {

void add_build_commands(CommandTable& table);
void add_run_commands(CommandTable& table);
void add_cache_commands(CommandTable& table);
void add_config_commands(CommandTable& table);
void add_package_commands(CommandTable& table);
void add_plan_commands(CommandTable& table);
void add_plugin_commands(CommandTable& table);
void add_toolchain_commands(CommandTable& table);
void add_container_commands(CommandTable& table);
void add_verify_commands(CommandTable& table);
void add_rebuild_commands(CommandTable& table);
void add_version_commands(CommandTable& table);

CommandTable& builtin_commands();

}  // namespace sf::cli
