// Content hashes of packages: SHA-256 over a canonical description, so the same inputs give the
// same hash on any machine and any run, and one changed input changes exactly the hashes of the
// packages that depend on it.
//
// The description (canonical_description) is a JSON object serialised with sorted keys and no
// whitespace. It holds: a schema number, recipe name, version, origin (source | system), the
// source sha256 (source) or the system package names (system), build system, autoreconf,
// configure command, make shell (when set), resolved configure/build/install arguments and
// environment (with ${jobs} left as written: the parallelism does not change the result), patches
// (file, sha256, strip), the canonical prefix, the toolchain identity (family, release, arch, image
// hash), the features that bear on the package, and each dependency's name, types and hash. Mirrors
// are not part of it: where bytes came from does not matter once their sha256 is checked.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace sf {

struct PackageSpec;

// Bumped when the description's layout changes (every hash changes with it), or when every build's
// environment changes: 2 = reproducible builds (SOURCE_DATE_EPOCH from the source archive, TZ,
// locale, umask, -ffile-prefix-map: templates/build/common.sh), so no entry built before is reused
// under a hash that now promises a reproducible build. SOURCE_DATE_EPOCH itself is a function of
// the source archive's bytes, which source_sha256 pins.
inline constexpr int kPackageHashSchema = 2;

// The description of `spec`; its dependencies' hashes must already be set in spec.dependencies.
nlohmann::json canonical_description(const PackageSpec& spec);
// Lower-case hex SHA-256 of the description's canonical serialisation.
std::string package_hash(const nlohmann::json& description);
// The first 12 hex characters, used in entry names and tables.
inline std::string hash12(const std::string& hash) { return hash.substr(0, 12); }

}  // namespace sf
