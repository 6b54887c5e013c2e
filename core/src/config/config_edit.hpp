// Changes to the user's config file made by commands (`cache keys trust --write`): the file is read
// and re-emitted by yaml-cpp (its comments are not kept), the previous one kept as <file>.bak, the
// new one written beside it and renamed over it.
#pragma once

#include <filesystem>
#include <string>

namespace sf {

// Adds `fingerprint` to signing.trusted_fingerprints of `file` (made with its folders when
// missing). Returns true when it was there already. Throws ConfigurationError naming the file.
bool add_trusted_fingerprint(const std::filesystem::path& file, const std::string& fingerprint);

}  // namespace sf
