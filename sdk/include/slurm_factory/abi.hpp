// The plugin ABI: its version and the toolchain fingerprint. A plugin records both, at its compile
// time, in its PluginDescriptor. The host accepts it when the major versions are equal, the
// plugin's minor is not newer than the host's, and the fingerprints are equal (C++ types such as
// std::string, std::function, nlohmann::json and spdlog::logger cross the plugin boundary, so
// both sides must be compiled with the same compiler, C++ library and library versions; see
// docs/writing-a-plugin.md, "C++ ABI policy").
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#if __has_include(<spdlog/version.h>)
#include <spdlog/version.h>
#endif

namespace sf {

struct AbiVersion {
  std::uint32_t major = 0;
  std::uint32_t minor = 0;

  std::string str() const { return std::to_string(major) + "." + std::to_string(minor); }
  friend bool operator==(const AbiVersion&, const AbiVersion&) = default;
};

inline constexpr std::uint32_t kAbiMajor = 3;
inline constexpr std::uint32_t kAbiMinor = 2;
inline constexpr AbiVersion kAbiVersion{kAbiMajor, kAbiMinor};

// True when a host at `host` may load a plugin built against `plugin`.
constexpr bool abi_compatible(AbiVersion host, AbiVersion plugin) {
  return host.major == plugin.major && plugin.minor <= host.minor;
}

}  // namespace sf

// The toolchain fingerprint as a string literal, made by the preprocessor of the translation unit
// that expands it: "gcc 12.2; libstdc++ 12 (20220819, cxx11-abi 1); nlohmann_json 3.11.2;
// spdlog 1.10.0". Compiler major.minor, the C++ library's release and ABI, the versions of the
// libraries whose types the SDK hands across the boundary (nlohmann::json in factories and
// settings, spdlog::logger in PluginContext and sf::log()). Boost is not part of it: no SDK type
// is a Boost type (plugin.hpp uses Boost.DLL's export macro only).
#define SLURM_FACTORY_FP_STR2_(x) #x
#define SLURM_FACTORY_FP_STR_(x) SLURM_FACTORY_FP_STR2_(x)
#if defined(__clang__)
#define SLURM_FACTORY_FP_COMPILER_ \
  "clang " SLURM_FACTORY_FP_STR_(__clang_major__) "." SLURM_FACTORY_FP_STR_(__clang_minor__)
#elif defined(__GNUC__)
#define SLURM_FACTORY_FP_COMPILER_ \
  "gcc " SLURM_FACTORY_FP_STR_(__GNUC__) "." SLURM_FACTORY_FP_STR_(__GNUC_MINOR__)
#else
#define SLURM_FACTORY_FP_COMPILER_ "unknown compiler"
#endif
#if defined(__GLIBCXX__)
#define SLURM_FACTORY_FP_STDLIB_                                                   \
  "libstdc++ " SLURM_FACTORY_FP_STR_(_GLIBCXX_RELEASE) " (" SLURM_FACTORY_FP_STR_( \
      __GLIBCXX__) ", cxx11-abi " SLURM_FACTORY_FP_STR_(_GLIBCXX_USE_CXX11_ABI) ")"
#elif defined(_LIBCPP_VERSION)
#define SLURM_FACTORY_FP_STDLIB_ "libc++ " SLURM_FACTORY_FP_STR_(_LIBCPP_VERSION)
#else
#define SLURM_FACTORY_FP_STDLIB_ "unknown C++ library"
#endif
#define SLURM_FACTORY_FP_JSON_                                                                   \
  "nlohmann_json " SLURM_FACTORY_FP_STR_(NLOHMANN_JSON_VERSION_MAJOR) "." SLURM_FACTORY_FP_STR_( \
      NLOHMANN_JSON_VERSION_MINOR) "." SLURM_FACTORY_FP_STR_(NLOHMANN_JSON_VERSION_PATCH)
#if defined(SPDLOG_VER_MAJOR)
#define SLURM_FACTORY_FP_SPDLOG_                                               \
  "spdlog " SLURM_FACTORY_FP_STR_(SPDLOG_VER_MAJOR) "." SLURM_FACTORY_FP_STR_( \
      SPDLOG_VER_MINOR) "." SLURM_FACTORY_FP_STR_(SPDLOG_VER_PATCH)
#else
#define SLURM_FACTORY_FP_SPDLOG_ "spdlog none"
#endif
#define SLURM_FACTORY_TOOLCHAIN_FINGERPRINT                                            \
  SLURM_FACTORY_FP_COMPILER_ "; " SLURM_FACTORY_FP_STDLIB_ "; " SLURM_FACTORY_FP_JSON_ \
                             "; " SLURM_FACTORY_FP_SPDLOG_

namespace sf {

// The fingerprint of the code that calls it, fixed at its compile time: the plugin's in its
// descriptor (SLURM_FACTORY_PLUGIN), the host's in the core library. constexpr, so the plugin's
// value is a constant in the plugin itself, never a call into the core.
constexpr const char* toolchain_fingerprint() noexcept {
  return SLURM_FACTORY_TOOLCHAIN_FINGERPRINT;
}

}  // namespace sf
