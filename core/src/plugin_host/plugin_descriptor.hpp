// Reading a loaded plugin's descriptor (the SLURM_FACTORY_PLUGIN entry point) and checking it
// before any of the plugin's own code runs: ABI version, toolchain fingerprint, name and register
// function.
#pragma once

#include <boost/dll/shared_library.hpp>
#include <string>

#include "slurm_factory/plugin.hpp"

namespace sf {

// The descriptor of `library` (loaded from `path`). Throws PluginError naming the file, what was
// expected and found, and what to do, when the entry point is missing or returns nothing, when
// the plugin was built for another ABI major, a newer ABI minor or another toolchain fingerprint,
// or when it names no plugin or no register function.
const PluginDescriptor& read_plugin_descriptor(const boost::dll::shared_library& library,
                                               const std::string& path);

}  // namespace sf
