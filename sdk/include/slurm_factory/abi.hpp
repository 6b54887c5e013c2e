// The plugin ABI version. A plugin records the version it was built against; the host accepts it
// when the major versions are equal and the plugin's minor is not newer than the host's.
#pragma once

#include <cstdint>
#include <string>

namespace sf {

struct AbiVersion {
  std::uint32_t major = 0;
  std::uint32_t minor = 0;

  std::string str() const { return std::to_string(major) + "." + std::to_string(minor); }
  friend bool operator==(const AbiVersion&, const AbiVersion&) = default;
};

inline constexpr std::uint32_t kAbiMajor = 1;
inline constexpr std::uint32_t kAbiMinor = 2;
inline constexpr AbiVersion kAbiVersion{kAbiMajor, kAbiMinor};

// True when a host at `host` may load a plugin built against `plugin`.
constexpr bool abi_compatible(AbiVersion host, AbiVersion plugin) {
  return host.major == plugin.major && plugin.minor <= host.minor;
}

}  // namespace sf
