// What the plugin host checks on a plugin file before it loads any code from it.
#pragma once

#include <filesystem>

namespace sf {

// Refuses (PluginError naming the file, what was found and what to do) a file that is not safe to
// load code from, like the dynamic loader's secure mode: a world-writable .so or folder holding
// it; when running as root, a .so or folder owned by another user than root; any world-writable
// folder above it without the sticky bit. Then refuses a file that is not an ELF shared object.
// `file` is canonical.
void check_plugin_file(const std::filesystem::path& file);

}  // namespace sf
