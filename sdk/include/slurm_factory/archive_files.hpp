// The regular files of a small archive held in memory (ABI 3.1): a .deb's control.tar member.
// Part of the SDK, implemented in the core library with libarchive (tar of any compression it
// reads).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "slurm_factory/expected.hpp"

namespace sf {

// Path (without a leading "./") -> content of every regular file; a compressed single file (a
// .gz that is no tar) gives one entry, "data". A Failure when the bytes are neither, or the
// files hold more than `max_bytes` in all (nothing is returned then).
Expected<std::map<std::string, std::string>> read_archive_files(std::string_view archive,
                                                                std::uint64_t max_bytes);

}  // namespace sf
