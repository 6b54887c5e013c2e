#include "plugin_host/plugin_descriptor.hpp"

#include <exception>
#include <string>

#include "plugin_host/plugin_refusal.hpp"
#include "slurm_factory/abi.hpp"
#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

using plugin_refusal::kRemoveHint;

// The first two fields keep their place in every ABI: they are read before anything else.
void check_abi_version(const PluginDescriptor& descriptor, const std::string& path) {
  const AbiVersion abi{descriptor.abi_major, descriptor.abi_minor};
  const std::string host_abi = kAbiVersion.str();
  if (abi.major != kAbiVersion.major) {
    throw PluginError("plugin file " + path + " was built for plugin ABI " + abi.str() +
                          ", this slurm-factory expects ABI " + std::to_string(kAbiVersion.major) +
                          ".x (host ABI " + host_abi + "): major versions differ",
                      {{"file", path}, {"plugin ABI", abi.str()}, {"host ABI", host_abi}},
                      "rebuild the plugin against the SDK of this slurm-factory (ABI " + host_abi +
                          "), " + kRemoveHint);
  }
  if (!abi_compatible(kAbiVersion, abi)) {
    throw PluginError("plugin file " + path + " was built for plugin ABI " + abi.str() +
                          ", newer than this slurm-factory's ABI " + host_abi +
                          " (expected minor <= " + std::to_string(kAbiVersion.minor) + ")",
                      {{"file", path}, {"plugin ABI", abi.str()}, {"host ABI", host_abi}},
                      "upgrade slurm-factory to a release with ABI >= " + abi.str() +
                          ", or rebuild the plugin against this SDK (ABI " + host_abi + "), " +
                          kRemoveHint);
  }
}

// The third field from ABI 2.0 on: C++ types (std::string, std::function, nlohmann::json,
// spdlog::logger, exceptions) cross the boundary, so the plugin must be compiled like the host.
void check_toolchain_fingerprint(const PluginDescriptor& descriptor, const std::string& path) {
  const std::string host = toolchain_fingerprint();
  const std::string plugin =
      descriptor.toolchain_fingerprint != nullptr ? descriptor.toolchain_fingerprint : "(none)";
  if (plugin == host) return;
  throw PluginError("plugin file " + path + " was built with toolchain '" + plugin +
                        "', this slurm-factory with '" + host +
                        "': C++ types cross the plugin boundary, so the two must match",
                    {{"file", path}, {"plugin toolchain", plugin}, {"host toolchain", host}},
                    "rebuild the plugin against this slurm-factory's SDK with the same compiler "
                    "and libraries (docs/writing-a-plugin.md, \"C++ ABI policy\"), " +
                        kRemoveHint);
}

}  // namespace

const PluginDescriptor& read_plugin_descriptor(const boost::dll::shared_library& library,
                                               const std::string& path) {
  if (!library.has(kPluginEntryPoint)) {
    throw PluginError("plugin file " + path + " has no entry point '" + kPluginEntryPoint +
                          "': expected a Boost.DLL alias, found a shared object without one",
                      {{"file", path}, {"expected symbol", kPluginEntryPoint}},
                      "define the entry point with SLURM_FACTORY_PLUGIN(name, version, "
                      "description, register_fn) in one source file of the plugin, " +
                          kRemoveHint);
  }
  const PluginDescriptor* descriptor = nullptr;
  try {
    descriptor = library.get_alias<PluginEntryFn>(kPluginEntryPoint)();
  } catch (const std::exception& e) {
    throw PluginError("plugin file " + path + ": calling entry point '" + kPluginEntryPoint +
                          "' failed: " + e.what(),
                      {{"file", path}}, "fix the plugin, " + kRemoveHint);
  }
  if (descriptor == nullptr) {
    throw PluginError("plugin file " + path + ": entry point '" + kPluginEntryPoint +
                          "' returned no descriptor; expected a PluginDescriptor",
                      {{"file", path}},
                      "define the entry point with SLURM_FACTORY_PLUGIN(...), " + kRemoveHint);
  }
  check_abi_version(*descriptor, path);
  check_toolchain_fingerprint(*descriptor, path);
  if (descriptor->name == nullptr || descriptor->name[0] == '\0' ||
      descriptor->register_plugin == nullptr) {
    throw PluginError(
        "plugin file " + path + ": descriptor has no name or no register function; expected both",
        {{"file", path}},
        "define the entry point with SLURM_FACTORY_PLUGIN(name, version, "
        "description, register_fn), " +
            kRemoveHint);
  }
  return *descriptor;
}

}  // namespace sf
